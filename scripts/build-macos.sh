#!/bin/sh
# Cross-build skillboxd, skillboxctl and skillbox-proxy for macOS on x86_64
# and arm64 with zig cc, into build-macos-x86_64/ and build-macos-aarch64/.
#
# zig, libuv and msgpack-c come from scripts/macos-fetch.sh (npm and
# Debian's source packages, cached under /var/tmp/skillbox-macos). The two
# libraries are compiled here with zig cc into a prefix per architecture
# (static archives, headers, pkg-config files), cached under a stamp of
# this script, so a second run only rebuilds skillbox. inih: Debian's
# archive here has no source for it, so the prefix gets the installed
# <ini.h> and scripts/cross/ini_stream.c (unit-tested against libinih).
# Then meson with scripts/cross/macos-<arch>.ini builds skillboxd,
# skillboxctl and skillbox-proxy (hardened by daemon/proxy/harden_darwin.c); tests/macos/syscalls.c (sandbox_init_with_parameters,
# launch_activate_socket, posix_spawn, kqueue EVFILT_PROC) is linked too,
# and `file` must call every output a Mach-O of its architecture.
set -eu
cd "$(dirname "$0")/.."
root=$PWD

cache=$(scripts/macos-fetch.sh | tail -n1)
zig=$cache/zig-0.11.0/zig
export ZIG_GLOBAL_CACHE_DIR="$cache/zig-cache" ZIG_LOCAL_CACHE_DIR="$cache/zig-cache"
stamp=$(cat scripts/build-macos.sh scripts/cross/ini_stream.c /usr/include/ini.h | sha256sum | cut -c1-12)
jobs=${SKILLBOX_MACOS_JOBS:-2}

# $1 arch, $2 prefix: compile each of the remaining arguments' .c files
# with zig cc for arch into $objdir, then archive them as $2/lib/$lib.
compile_archive() {
        arch=$1 lib=$2
        shift 2
        objs=
        for src in "$@"; do
                obj="$objdir/$(echo "$src" | tr / _).o"
                "$zig" cc -target "$arch-macos.11.0" -O2 -fPIC $cflags -c "$src" -o "$obj"
                objs="$objs $obj"
        done
        # shellcheck disable=SC2086
        "$zig" ar rcs "$prefix/lib/$lib" $objs
}

build_libuv() {
        arch=$1
        src=$cache/src/libuv
        objdir=$(mktemp -d "$cache/obj.XXXXXX")
        cflags="-I$root/scripts/cross/macos-include -I$src/include -I$src/src -D_DARWIN_UNLIMITED_SELECT=1 -D_DARWIN_USE_64_BIT_INODE=1 -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE -w"
        (cd "$src" && compile_archive "$arch" libuv.a \
                src/fs-poll.c src/idna.c src/inet.c src/random.c src/strscpy.c src/strtok.c \
                src/threadpool.c src/timer.c src/uv-common.c src/uv-data-getter-setters.c \
                src/version.c \
                src/unix/async.c src/unix/core.c src/unix/dl.c src/unix/fs.c \
                src/unix/getaddrinfo.c src/unix/getnameinfo.c src/unix/loop-watcher.c \
                src/unix/loop.c src/unix/pipe.c src/unix/poll.c src/unix/process.c \
                src/unix/random-devurandom.c src/unix/signal.c src/unix/stream.c \
                src/unix/tcp.c src/unix/thread.c src/unix/tty.c src/unix/udp.c \
                src/unix/proctitle.c src/unix/bsd-ifaddrs.c src/unix/kqueue.c \
                src/unix/random-getentropy.c src/unix/darwin-proctitle.c src/unix/darwin.c \
                src/unix/fsevents.c)
        rm -rf "$objdir"
        cp -R "$src/include/." "$prefix/include/"
        version=$(sed -n 's/^AC_INIT(\[libuv\], \[\([0-9.]*\)\].*/\1/p' "$src/configure.ac")
        cat > "$prefix/lib/pkgconfig/libuv.pc" <<PC
prefix=$prefix
Name: libuv
Description: multi-platform support library with a focus on asynchronous I/O
Version: $version
Libs: -L\${prefix}/lib -luv -lpthread
Cflags: -I\${prefix}/include
PC
}

build_msgpack() {
        arch=$1
        src=$cache/src/msgpack-c
        objdir=$(mktemp -d "$cache/obj.XXXXXX")
        mkdir -p "$prefix/include/msgpack"
        # What msgpack-c's CMake configures: the byte order (both targets
        # are little-endian).
        for h in sysdep pack_template; do
                sed -e 's/@MSGPACK_ENDIAN_BIG_BYTE@/0/' -e 's/@MSGPACK_ENDIAN_LITTLE_BYTE@/1/' \
                        "$src/cmake/$h.h.in" > "$prefix/include/msgpack/$h.h"
        done
        cp "$src/include/msgpack.h" "$prefix/include/"
        cp "$src"/include/msgpack/*.h "$prefix/include/msgpack/"
        cflags="-I$prefix/include -w"
        (cd "$src" && compile_archive "$arch" libmsgpackc.a \
                src/objectc.c src/unpack.c src/version.c src/vrefbuffer.c src/zone.c)
        rm -rf "$objdir"
        version=$(sed -n 's/^#define MSGPACK_VERSION_MAJOR *\([0-9]*\).*/\1/p' "$src/include/msgpack/version_master.h")
        cat > "$prefix/lib/pkgconfig/msgpack.pc" <<PC
prefix=$prefix
Name: msgpack
Description: binary-based efficient object serialization library
Version: $version.0.0
Libs: -L\${prefix}/lib -lmsgpackc
Cflags: -I\${prefix}/include
PC
}

build_inih() {
        arch=$1
        objdir=$(mktemp -d "$cache/obj.XXXXXX")
        cp /usr/include/ini.h "$prefix/include/"
        cflags="-I$prefix/include"
        compile_archive "$arch" libinih.a "$root/scripts/cross/ini_stream.c"
        rm -rf "$objdir"
        cat > "$prefix/lib/pkgconfig/inih.pc" <<PC
prefix=$prefix
Name: inih
Description: ini_parse_stream for the cross builds (scripts/cross/ini_stream.c)
Version: 55
Libs: -L\${prefix}/lib -linih
Cflags: -I\${prefix}/include
PC
}

for arch in x86_64 aarch64; do
        prefix=$cache/deps-$arch-$stamp
        if [ ! -f "$prefix/.done" ]; then
                rm -rf "$prefix"
                mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
                build_libuv "$arch"
                build_msgpack "$arch"
                build_inih "$arch"
                touch "$prefix/.done"
        fi

        out=build-macos-$arch
        # meson reads the cross files again whenever it regenerates.
        consts=$cache/constants-$arch.ini
        printf "[constants]\nzig = '%s'\nzig_cc = '%s'\nprefix = '%s'\n" "$zig" "$root/scripts/cross/zig-cc" "$prefix" > "$consts"
        if [ -f "$out/build.ninja" ]; then
                meson setup --reconfigure "$out" --cross-file "$consts" \
                        --cross-file "scripts/cross/macos-$arch.ini"
        else
                rm -rf "$out"
                meson setup "$out" --cross-file "$consts" --cross-file "scripts/cross/macos-$arch.ini" \
                        -Dwerror=true -Dtests=false -Dsystemd=disabled -Dlinux_sandbox=disabled \
                        -Dstatic_cli=false -Db_pie=false -Db_asneeded=false -Db_lundef=false
        fi
        ninja -C "$out" -j "$jobs" daemon/skillboxd client/skillboxctl daemon/proxy/skillbox-proxy

        # The macOS system calls the backend and the launchd seam rely on
        # link for this architecture.
        "$zig" cc -target "$arch-macos.11.0" -Wall -Wextra -Werror -I"$root" \
                -o "$out/macos-syscalls" tests/macos/syscalls.c

        want=$(case $arch in x86_64) echo x86_64 ;; aarch64) echo arm64 ;; esac)
        for f in "$out/daemon/skillboxd" "$out/client/skillboxctl" \
                "$out/daemon/proxy/skillbox-proxy" "$out/macos-syscalls"; do
                desc=$(file -b "$f")
                case $desc in
                "Mach-O 64-bit $want executable"*) echo "$f: $desc" ;;
                *) echo "build-macos: $f is not a Mach-O $want executable: $desc" >&2; exit 1 ;;
                esac
        done
done
