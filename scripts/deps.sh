#!/bin/sh
# Install what building and testing skillbox needs on Debian 12 (as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
        gcc libc6-dev meson ninja-build pkg-config \
        libuv1-dev libmsgpack-dev libseccomp-dev libcap-dev libsystemd-dev libinih-dev \
        libcmocka-dev python3 python3-pytest python3-msgpack \
        util-linux procps bubblewrap strace \
        scdoc systemd musl-tools
