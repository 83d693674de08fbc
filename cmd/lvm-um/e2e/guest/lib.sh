# Sourced by every phase script: the host's settings (/ctl/env) and helpers.
# A phase prints its results as "@@E2E <key> <value>" lines on the console.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LVM_SUPPRESS_FD_WARNINGS=1
. /ctl/env

say() { echo "@@E2E $*"; }

# lvsha LV: sha256 of a logical volume of devicevg.
lvsha() { sha256sum < "/dev/devicevg/$1" | cut -d' ' -f1; }

# mender_run NAME ARGS...: runs the Mender client (standalone), keeps its
# output and exit code on the data volume (/data/e2e/NAME.*, so a later
# boot can print them again when this one is cut short by a reboot), and
# reports them.
mender_run() {
	name=$1
	shift
	mkdir -p /data/e2e
	rc=0
	mender --no-syslog --log-level info "$@" > "/data/e2e/$name.out" 2>&1 || rc=$?
	echo "$rc" > "/data/e2e/$name.rc"
	sync
	report_run "$name"
}

# report_run NAME: prints what mender_run NAME kept: the client's output
# on the console, its warnings and errors (NAME_log), the lvm-um module's
# own lines (NAME_mod) and the exit code (NAME_rc).
report_run() {
	cp "/data/e2e/$1.out" /tmp/mender.out
	sed 's/^/mender: /' /tmp/mender.out
	grep -E 'from command|level=(error|warning)' /tmp/mender.out | sed "s/^/@@E2E ${1}_log /" || true
	grep -o 'lvm-um: [^"]*' /tmp/mender.out | sed -e "s/^lvm-um: /@@E2E ${1}_mod /" -e 's/\\n$//' || true
	say "${1}_rc" "$(cat "/data/e2e/$1.rc")"
}

# use_config FILE: makes /ctl/FILE the lvm-um module's configuration
# (/etc/mender/lvm-um.conf links to /data/lvm-um.conf, which outlives boots).
use_config() { cp "/ctl/$1" /data/lvm-um.conf; }

# snap_report NAME: the snapshot's kernel status and LVM's view of it.
snap_report() {
	say "${1}_status" "$(dmsetup status devicevg-rootfs2 2> /dev/null || echo none)"
	say "${1}_lvs" "$(lvs --noheadings -o lv_name,lv_attr devicevg | tr -s ' \n' ' ')"
}

# report_rec: prints and clears what the recording module logged.
report_rec() {
	key=rec${1:+.$1}
	if [ -f /data/rec.log ]; then
		sed "s/^/@@E2E $key /" /data/rec.log
		: > /data/rec.log
	fi
}

# report_state: what the client and LVM say now.
report_state() {
	say artifact "$(mender --no-syslog --log-level error show-artifact 2> /dev/null)"
	mender --no-syslog --log-level error show-provides 2> /dev/null | while read -r l; do say provides "$l"; done
	say lvs "$(lvs --noheadings -o lv_name devicevg | tr -s ' \n' ' ')"
	say vg_free "$(vgs --noheadings --nosuffix --units b -o vg_free devicevg | tr -d ' ')"
	say boot_part "$(fw_printenv -n mender_boot_part)"
}
