#!/bin/sh
# Runs inside the guest (tests/vm/run.sh), as the unit skillbox-vm-test.service
# (a non-delegated cgroup): first the admin's path from the README with the
# shipped units, then the integration suite. Results go to the host through
# hostfs: guest.log and rc in the host directory named by $1.
out_host=$1
mkdir -p /out
mount -t hostfs none /out -o "$out_host" || exit 1
exec >/out/guest.log 2>&1

t=/opt/skillbox-tests
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

export SKILLBOXD=/usr/sbin/skillboxd SKILLBOXCTL=/usr/bin/skillboxctl
export SKILLBOX_PROBE=$t/bin/skillbox-probe PYTHONDONTWRITEBYTECODE=1
step "shipped units and a daemon started by hand (tests/vm)" \
        python3 -m pytest -v -p no:cacheprovider $t/tests/vm/test_units.py $t/tests/vm/test_hand_started.py
step "integration suite, daemons started by hand from $(cut -d: -f3 /proc/self/cgroup)" \
        sh -c "python3 -m pytest -v -p no:cacheprovider $(cat $t/pytest-args | tr '\n' ' ') $t/tests/integration"
echo "== guest suite: exit $rc"
echo $rc >/out/rc
