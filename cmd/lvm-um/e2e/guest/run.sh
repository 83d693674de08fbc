#!/bin/sh
# Runs the phase script from the control disk, reports its exit code, then
# powers off (the host runs QEMU with -no-reboot: a reboot ends it too).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LVM_SUPPRESS_FD_WARNINGS=1
cd /ctl
sh -e /ctl/phase.sh
echo "@@E2E-DONE $?"
poweroff
