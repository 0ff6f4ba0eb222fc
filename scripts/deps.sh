#!/bin/sh
# Install what building and testing skillbox needs on Debian 12 (as root).
# clang builds the fuzz harnesses (tests/fuzz/run.sh); its libFuzzer and
# sanitizer runtimes are only recommended by clang (libclang-rt-dev, here
# libclang-rt-14-dev), and llvm brings llvm-symbolizer for readable reports.
# setuptools, wheel, venv and pip: the python suite installs client/python
# into a venv with pip, building it with Debian's setuptools (no PyPI).
# dpkg-dev, openssl and file: scripts/build-macos.sh (apt-get source, the
# zig package's hash, the Mach-O check).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
        gcc libc6-dev meson ninja-build pkg-config \
        libuv1-dev libmsgpack-dev libseccomp-dev libcap-dev libsystemd-dev libinih-dev \
        libcmocka-dev python3 python3-pytest python3-msgpack python3-pynvim curl \
        python3-setuptools python3-wheel python3-venv python3-pip \
        util-linux procps bubblewrap strace \
        scdoc systemd musl-tools \
        clang libclang-rt-dev llvm \
        dpkg-dev openssl file
