#!/bin/sh
# Runs inside the guest (tests/vm/run.sh), as the unit skillbox-vm-test.service
# (a non-delegated cgroup): first the admin's path from the README with the
# shipped units, then the integration suite; or, in bench mode, bench/run.sh
# alone. Results go to the host through hostfs: guest.log and rc in the host
# directory named by $1.
#
# tests/vm/guest_args_test.sh runs it on the host: SKILLBOX_GUEST_TESTS names
# the tests directory and SKILLBOX_GUEST_OUT a local output directory (no
# hostfs mount then).
out_host=$1
out=${SKILLBOX_GUEST_OUT:-/out}
if [ -z "$SKILLBOX_GUEST_OUT" ]; then
        mkdir -p /out
        mount -t hostfs none /out -o "$out_host" || exit 1
fi
exec >"$out/guest.log" 2>&1

t=${SKILLBOX_GUEST_TESTS:-/opt/skillbox-tests}
rc=0
echo "== guest: $(uname -r), $(systemctl --version | head -1), cgroup $(stat -fc %T /sys/fs/cgroup)"
echo "== guest: controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

step() {
        name=$1
        shift
        echo "== $name"
        if "$@"; then
                echo "== $name: passed"
        else
                echo "== $name: FAILED"
                rc=1
        fi
}

# run.sh's arguments, one a line, as words of their own (a -k expression
# or a bench option's value keeps its spaces).
set --
while IFS= read -r a; do
        # run.sh without arguments writes one empty line.
        [ -n "$a" ] && set -- "$@" "$a"
done <$t/args

if [ "$(cat $t/mode)" = bench ]; then
        # The bench's exit status says whether it ran, not whether the targets
        # were met (its table says that).
        step "bench/run.sh (release build), from $(cut -d: -f3 /proc/self/cgroup)" \
                sh $t/bench/run.sh $t/bench/build "$@"
        echo "== guest bench: exit $rc"
        echo $rc >"$out/rc"
        exit 0
fi

export SKILLBOXD=/usr/sbin/skillboxd SKILLBOXCTL=/usr/bin/skillboxctl
export SKILLBOX_PROBE=$t/bin/skillbox-probe PYTHONDONTWRITEBYTECODE=1
# As tests/integration/meson.build sets them on the host: the installed
# egress proxy (the daemon finds it there too), the async client driver.
export SKILLBOX_PROXY=/usr/libexec/skillbox/skillbox-proxy
export SKILLBOX_CLIENT_ASYNC=$t/bin/client_async
if [ -x $t/bin/libuv_host ]; then
        export SKILLBOX_LIBUV_HOST=$t/bin/libuv_host
fi
step "shipped units and a daemon started by hand (tests/vm)" \
        python3 -m pytest -v -p no:cacheprovider $t/tests/vm/test_units.py $t/tests/vm/test_hand_started.py
step "integration suite, daemons started by hand from $(cut -d: -f3 /proc/self/cgroup)" \
        python3 -m pytest -v -p no:cacheprovider "$@" $t/tests/integration
step "python client suite" \
        env PYTHONPATH=$t/client/python python3 -m pytest -v -p no:cacheprovider \
        $t/client/python/tests
echo "== guest suite: exit $rc"
echo $rc >"$out/rc"
