# First boot of a blank state disk: the device as it leaves the factory.
# env: ROOT_SIZE DATA_SIZE (lvcreate sizes), DEVICE_TYPE; files: base.img,
# seed.mender (a rec-seed artifact providing rootfs-image.checksum).
. /etc/e2e/lib.sh
pvcreate -q -y /dev/vda
vgcreate -q -s 4m devicevg /dev/vda
lvcreate -q -y -L "$ROOT_SIZE" -n rootfs1 devicevg
lvcreate -q -y -L "$DATA_SIZE" -n data devicevg
dd if=/ctl/base.img of=/dev/devicevg/rootfs1 bs=1M conv=fsync 2> /dev/null
mkfs.ext4 -q -F /dev/devicevg/data
mount -t ext4 /dev/devicevg/data /data
mkdir -p /data/mender
echo "device_type=$DEVICE_TYPE" > /data/mender/device_type
fw_setenv mender_boot_part 1
[ -f /ctl/lvm-um.conf ] && use_config lvm-um.conf
mender_run seed install /ctl/seed.mender
report_rec
report_state
say extent_size "$(vgs --noheadings --nosuffix --units b -o vg_extent_size devicevg | tr -d ' ')"
say origin_sha "$(lvsha rootfs1)"
