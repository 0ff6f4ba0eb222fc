#!/bin/sh
# tests/vm/guest.sh on the host, without a guest: run.sh's arguments (one a
# line in args) reach bench/run.sh and pytest as words of their own, also
# one with a space or a glob character in it.
# Usage: guest_args_test.sh SOURCE_ROOT
set -eu
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=$tmp/tests
mkdir -p "$t/bench" "$tmp/out" "$tmp/bin"
printf '%s\n' --only 'fresh sandboxes' '*' > "$t/args"
# Each fake writes the arguments it got, one a line.
cat > "$t/bench/run.sh" <<'EOS'
for a; do printf '%s\n' "$a"; done > "$GOT"
EOS
cat > "$tmp/bin/python3" <<'EOS'
#!/bin/sh
for a; do printf '%s\n' "$a"; done >> "$GOT"
EOS
chmod +x "$tmp/bin/python3"

fail() {
        echo "FAIL: $*"
        echo "---- guest.log"
        cat "$tmp/out/guest.log"
        exit 1
}

echo bench > "$t/mode"
GOT=$tmp/got SKILLBOX_GUEST_TESTS=$t SKILLBOX_GUEST_OUT=$tmp/out \
        sh "$src/tests/vm/guest.sh" unused
printf '%s\n' "$t/bench/build" --only 'fresh sandboxes' '*' > "$tmp/want"
cmp -s "$tmp/want" "$tmp/got" || fail "bench mode: bench/run.sh got $(cat "$tmp/got")"
[ "$(cat "$tmp/out/rc")" = 0 ] || fail "bench mode: rc $(cat "$tmp/out/rc")"

# Test mode: the integration suite's pytest gets them before its directory.
echo test > "$t/mode"
rm -f "$tmp/got"
PATH=$tmp/bin:$PATH GOT=$tmp/got SKILLBOX_GUEST_TESTS=$t SKILLBOX_GUEST_OUT=$tmp/out \
        sh "$src/tests/vm/guest.sh" unused
tr '\n' '|' < "$tmp/got" | grep -qF -- "|--only|fresh sandboxes|*|$t/tests/integration|" ||
        fail "test mode: pytest got $(cat "$tmp/got")"
echo ok
