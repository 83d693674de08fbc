#!/bin/sh
# The guest's early boot and "bootloader". Mounts the kernel file systems,
# loads the modules the host listed, unpacks the control disk (/dev/vdb, a
# tar the host wrote) into /ctl, then, if the state disk (/dev/vda) holds the
# volume group, activates it (which starts a snapshot merge deferred by an
# earlier `lvconvert --merge`), mounts the data volume at /data and mounts
# the root volume that the boot environment names (mender_boot_part 1 or 2
# -> rootfs1 or rootfs2) at /mnt/root, with the options in /ctl/rootmount.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run/lvm /run/lock/lvm /tmp /ctl /data /mnt/root
say() { echo "@@E2E $*"; }
fatal() { echo "@@E2E-FATAL $*"; }

while read -r m; do
	[ -n "$m" ] || continue
	insmod "/lib/modules/$(uname -r)/$m" || fatal "insmod $m failed"
done < /etc/e2e/modules

i=0
while [ ! -b /dev/vdb ] || [ ! -b /dev/vda ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { fatal "no /dev/vda or /dev/vdb after 10 s"; break; }
	sleep 0.1
done
tar -xf /dev/vdb -C /ctl || fatal "cannot unpack the control disk"

export LVM_SUPPRESS_FD_WARNINGS=1
if lvm vgs devicevg > /dev/null 2>&1; then
	# What LVM has on disk before activation (an "O" origin: a merge waits
	# for this activation).
	say preactivation_lvs "$(lvs --noheadings -o lv_name,lv_attr devicevg 2> /dev/null | tr -s ' \n' ' ')"
	vgchange -ay devicevg > /tmp/vgchange.log 2>&1 || { cat /tmp/vgchange.log; fatal "vgchange -ay failed"; }
	if [ -e /dev/devicevg/data ]; then
		mount -t ext4 /dev/devicevg/data /data || fatal "cannot mount the data volume"
	fi
	part=$(fw_printenv -n mender_boot_part 2> /dev/null)
	[ -n "$part" ] || part=1
	root=rootfs$part
	if [ ! -e "/dev/devicevg/$root" ]; then
		say "boot: $root is missing, falling back to rootfs1"
		root=rootfs1
	fi
	opts=$(cat /ctl/rootmount 2> /dev/null)
	[ -n "$opts" ] || opts=ro,noload
	if [ "$opts" != none ]; then
		mount -t ext4 -o "$opts" "/dev/devicevg/$root" /mnt/root || fatal "cannot mount $root ($opts)"
	fi
	say "boot root=$root opts=$opts"
fi
