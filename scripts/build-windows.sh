#!/bin/sh
# Cross-build skillbox for Windows x86_64 with mingw-w64, into build-windows/:
# skillboxd.exe, skillboxctl.exe, libskillbox.dll (what this tree builds for
# Windows; meson.build says which parts are Linux's alone).
#
# libuv and msgpack-c (its C part) are built from Debian's source packages,
# pinned to the versions below, into a prefix under /var/tmp that CI caches:
# msgpack-c's project() names C++ too, which it compiles none of in its C
# part: the C compiler stands in, untested, so no g++ is needed. The cache
# key is the versions and this script's build recipe (RECIPE), so
# a change to either builds them again. Needs root for apt (as CI runs).
set -eu
cd "$(dirname "$0")/.."
top=$PWD

UV_VERSION=1.44.2-1+deb12u1
MSGPACK_VERSION=4.0.0-3
RECIPE=1
HOST=x86_64-w64-mingw32
CACHE=${SKILLBOX_WIN_CACHE:-/var/tmp/skillbox-win}
key="uv-$UV_VERSION-msgpack-$MSGPACK_VERSION-r$RECIPE"
prefix=$CACHE/$key/prefix

need_pkgs=
command -v $HOST-gcc >/dev/null || need_pkgs="$need_pkgs gcc-mingw-w64-x86-64"
command -v cmake >/dev/null || need_pkgs="$need_pkgs cmake"
command -v dpkg-source >/dev/null || need_pkgs="$need_pkgs dpkg-dev"
command -v meson >/dev/null || need_pkgs="$need_pkgs meson ninja-build pkg-config"
if [ -n "$need_pkgs" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need_pkgs
fi

# The sources: Debian's deb-src for the suites the binaries come from.
deb_src() {
        if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
           ! grep -qs '^deb-src' /etc/apt/sources.list; then
                cat >/etc/apt/sources.list.d/skillbox-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
                apt-get update -q
        fi
}

fetch() { # package version dir
        if [ ! -d "$CACHE/src/$3" ]; then
                deb_src
                mkdir -p "$CACHE/src"
                (cd "$CACHE/src" && apt-get source -q "$1=$2")
        fi
}

# Their compilers' warnings are theirs: into a log, shown when a step fails.
cmake_build() { # srcdir builddir cmake-args...
        src=$1 bld=$2
        shift 2
        mkdir -p "$bld"
        if ! { cmake -S "$src" -B "$bld" -DCMAKE_SYSTEM_NAME=Windows \
                        -DCMAKE_C_COMPILER=$HOST-gcc -DCMAKE_RC_COMPILER=$HOST-windres \
                        -DCMAKE_FIND_ROOT_PATH=/usr/$HOST -DCMAKE_BUILD_TYPE=Release \
                        -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib "$@" &&
               cmake --build "$bld" -j "$(nproc)" &&
               cmake --install "$bld"; } >"$bld/build.log" 2>&1; then
                cat "$bld/build.log" >&2
                echo "build-windows: building $src failed" >&2
                exit 1
        fi
}

if [ ! -f "$prefix/.done" ]; then
        fetch libuv1 "$UV_VERSION" libuv1-1.44.2
        fetch msgpack-c "$MSGPACK_VERSION" msgpack-c-4.0.0
        rm -rf "$CACHE/$key"
        mkdir -p "$prefix"
        cmake_build "$CACHE/src/libuv1-1.44.2" "$CACHE/$key/build-uv" \
                -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF
        cmake_build "$CACHE/src/msgpack-c-4.0.0" "$CACHE/$key/build-msgpack" \
                -DMSGPACK_BUILD_TESTS=OFF -DMSGPACK_BUILD_EXAMPLES=OFF \
                -DCMAKE_CXX_COMPILER=$HOST-gcc -DCMAKE_CXX_COMPILER_WORKS=ON \
                -DMSGPACK_ENABLE_SHARED=ON -DMSGPACK_ENABLE_STATIC=ON
        touch "$prefix/.done"
fi

# libinih's header, for scripts/cross/ini_stream.c (config/meson.build):
# Debian serves no inih source package to cross-build.
[ -f /usr/include/ini.h ] ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libinih-dev
cp -u /usr/include/ini.h "$prefix/include/"

# The prefix as a second cross file (meson reads pkg-config files from it).
cat >"$CACHE/$key/prefix.ini" <<INI
[properties]
pkg_config_libdir = ['$prefix/lib/pkgconfig']
sys_root = '$prefix'
INI

bld=$top/build-windows
# Set up again when the libraries' prefix changed (another cache key or
# cache directory): the old one may be gone.
if [ -f "$bld/build.ninja" ] && [ "$(cat "$bld/.prefix" 2>/dev/null)" != "$prefix" ]; then
        rm -rf "$bld"
fi
if [ ! -f "$bld/build.ninja" ]; then
        meson setup "$bld" --cross-file scripts/cross/x86_64-w64-mingw32.ini \
                --cross-file "$CACHE/$key/prefix.ini" -Dwerror=true -Dtests=false \
                -Dsystemd=disabled -Dlinux_sandbox=disabled
        printf '%s\n' "$prefix" >"$bld/.prefix"
fi
ninja -C "$bld"
# The runtime DLLs beside the programs, so Wine (or a copy to Windows) finds them.
for dll in "$prefix"/bin/*.dll; do
        [ -f "$dll" ] && cp -u "$dll" "$bld/"
done
for dll in libwinpthread-1.dll libgcc_s_seh-1.dll libssp-0.dll; do
        f=$($HOST-gcc -print-file-name=$dll)
        [ -f "$f" ] && cp -u "$f" "$bld/"
done
echo "build-windows: $(cd "$bld" && find . -path ./meson-private -prune -o \( -name "*.exe" -o -name "*.dll" \) -print | sort | tr '\n' ' ')"
