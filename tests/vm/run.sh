#!/bin/sh
# Boot a Debian 12 guest with systemd as PID 1 and cgroup v2 (user-mode
# Linux: no KVM needed), install this tree into it with `meson install`, and
# run the guest suite inside (tests/vm/guest.sh): the shipped units, socket
# activated, then the integration suite against daemons started by hand from
# a non-delegated cgroup. The exit status is the guest suite's.
#
# With --bench it runs bench/run.sh in the guest instead, against a release
# build (the ratios to bwrap and unshare are what carry over from a user-mode
# Linux guest; the absolute times do not). Not run by .ci/run.
#
# Usage (as root, from anywhere): tests/vm/run.sh [PYTEST_ARGS...]
#                                 tests/vm/run.sh --bench [EXEC_BENCH_ARGS...]
#   SKILLBOX_VM_CACHE   where the rootfs tarball and build are kept between
#                       runs (default /var/tmp/skillbox-vm)
#   SKILLBOX_VM_RUN     the guest's image, console log and results, emptied
#                       first (default $SKILLBOX_VM_CACHE/run; give each of
#                       two runs at once its own)
#   SKILLBOX_VM_TIMEOUT seconds before the guest is killed (default 2400)
#   SKILLBOX_VM_MEM     guest memory (default 8G: the memory quotas are shares
#                       of it, and the suite runs several 512 MiB jobs at once)
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${SKILLBOX_VM_CACHE:-/var/tmp/skillbox-vm}
timeout=${SKILLBOX_VM_TIMEOUT:-2400}
mem=${SKILLBOX_VM_MEM:-8G}
mode=suite
if [ "${1:-}" = --bench ]; then
        mode=bench
        shift
fi

say() { echo "vm: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
        say "run as root (mmdebstrap, mkfs.ext4 -d and the image need it)"
        exit 1
fi
for t in linux.uml mmdebstrap mkfs.ext4 meson ninja; do
        if ! command -v $t >/dev/null; then
                say "$t is missing: apt-get install user-mode-linux mmdebstrap e2fsprogs meson ninja-build"
                exit 1
        fi
done
mkdir -p "$cache"

# ---- the root file system, cached by its package list
packages="systemd,systemd-sysv,dbus,libpam-systemd,kmod,procps,util-linux,iproute2,\
libuv1,libmsgpackc2,libseccomp2,libcap2,libsystemd0,libinih1,\
python3,python3-pytest,python3-msgpack,python3-pynvim,python3-pip,curl,strace,bubblewrap,\
python3-setuptools,python3-wheel,python3-venv,fontconfig,netbase"
key=$(printf '%s\n' "bookworm $packages v1" | sha256sum | cut -c1-16)
tarball=$cache/rootfs-$key.tar
if [ ! -s "$tarball" ]; then
        say "building the guest root file system (cached as $tarball)"
        rm -f "$tarball.tmp"
        mmdebstrap --variant=apt --format=tar --include="$packages" bookworm "$tarball.tmp" >&2
        mv "$tarball.tmp" "$tarball"
fi

# ---- the build, installed as a distribution package would be
# Kept between runs, one per source tree and mode: the bench times a release
# build without the tests.
build=$cache/build-$(printf %s "$src" | cksum | cut -d' ' -f1)
buildopts="-Dwerror=true"
if [ $mode = bench ]; then
        build=$build-bench
        buildopts="--buildtype=release -Dtests=false"
fi
if [ ! -f "$build/build.ninja" ]; then
        rm -rf "$build"
        # shellcheck disable=SC2086 # the options are words
        meson setup "$build" "$src" --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
                $buildopts >&2
fi
ninja -C "$build" >&2

run=${SKILLBOX_VM_RUN:-$cache/run}
umount_if() { mountpoint -q "$1" && umount "$1" || true; }
rm -rf "$run"
mkdir -p "$run/root" "$run/out"
say "laying out the guest"
tar -xf "$tarball" -C "$run/root"
DESTDIR="$run/root" meson install -C "$build" --no-rebuild --quiet >&2

# The suite and what it runs, laid out as in the source tree (the tests
# read config/ beside them): the integration tests, the in-job probe, the
# guest's own tests and its driver.
tests=$run/root/opt/skillbox-tests
mkdir -p "$tests/bin" "$tests/tests"
cp -r "$src/tests/vm" "$tests/tests/"
printf '%s\n' "$@" > "$tests/args"
echo $mode > "$tests/mode"
if [ $mode = bench ]; then
        # bench/run.sh wants a build directory: the installed daemon and CLI
        # stand in it, beside exec_bench (which meson does not install).
        b=$tests/bench
        mkdir -p "$b/build/daemon" "$b/build/client" "$b/build/bench"
        cp "$src/bench/run.sh" "$b/run.sh"
        cp "$build/bench/exec_bench" "$b/build/bench/"
        ln -s /usr/sbin/skillboxd "$b/build/daemon/skillboxd"
        ln -s /usr/bin/skillboxctl "$b/build/client/skillboxctl"
else
        cp -r "$src/tests/integration" "$tests/tests/"
        cp -r "$src/config" "$tests/config"
        cp "$build/tests/probe/probe" "$tests/bin/skillbox-probe"
        # What meson test passes on the host (tests/integration/meson.build,
        # tests/python/meson.build): the async client driver, and the
        # Python client's package and suite (and the example it runs), laid
        # out as in the tree.
        cp "$build/tests/client/client_async" "$tests/bin/client_async"
        mkdir -p "$tests/client"
        cp -r "$src/client/python" "$tests/client/"
        cp -r "$src/examples" "$tests/"
        if [ -x "$build/examples/libuv_host" ]; then
                cp "$build/examples/libuv_host" "$tests/bin/libuv_host"
        fi
fi

# The kernel's modules (ipv6 and the like load on demand).
mkdir -p "$run/root/lib/modules"
cp -a /usr/lib/uml/modules/"$(linux.uml --version)" "$run/root/lib/modules/"

# Boot straight into the suite: no getty on the console, a unit that runs
# guest.sh and powers off, and the results through hostfs.
root=$run/root
echo skillbox-vm > "$root/etc/hostname"
printf '/dev/ubda / ext4 defaults 0 1\n' > "$root/etc/fstab"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-timesyncd.service"
cat > "$root/etc/systemd/system/skillbox-vm-test.service" <<UNIT
[Unit]
Description=skillbox guest suite ($mode)
After=basic.target dbus.service
Wants=dbus.service

[Service]
Type=oneshot
ExecStart=/bin/sh /opt/skillbox-tests/tests/vm/guest.sh $run/out
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
ExecStopPost=/bin/systemctl --no-block poweroff
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../skillbox-vm-test.service "$root/etc/systemd/system/multi-user.target.wants/"
# The daemon's units are installed but not enabled: the guest suite enables
# them, as an admin would.

img=$run/root.img
say "making the ext4 image"
mkfs.ext4 -q -F -L skillbox-vm -d "$root" "$img" 4G >&2
rm -rf "$root"

say "booting (console log: $run/console.log)"
set +e
TMPDIR=$cache timeout -k 10 "$timeout" linux.uml mem="$mem" ubd0="$img" root=/dev/ubda rw \
        init=/lib/systemd/systemd systemd.unified_cgroup_hierarchy=1 \
        systemd.show_status=0 con=null con0=null,fd:1 \
        </dev/null >"$run/console.log" 2>&1
boot=$?
set -e
if [ -f "$run/out/guest.log" ]; then
        cat "$run/out/guest.log"
fi
if [ ! -f "$run/out/rc" ]; then
        say "the guest $mode did not finish (linux.uml exit $boot); the console's last lines:"
        tail -n 40 "$run/console.log" >&2
        exit 1
fi
rc=$(cat "$run/out/rc")
say "guest $mode exit status $rc"
exit "$rc"
