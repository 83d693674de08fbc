#!/bin/sh
# Unmount what init mounted, so the state disk is clean for the next boot.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
sync
umount /mnt/root 2> /dev/null
umount /data 2> /dev/null
sync
