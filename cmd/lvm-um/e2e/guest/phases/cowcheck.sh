# dm-snapshot against the COW formula: for each line of /ctl/cases
#   NAME CHUNK SNAPSIZE WRITE...   (WRITE = rand:OFF:LEN or same:OFF:LEN, bytes,
#                                   sector aligned; "same" rewrites the bytes
#                                   already there)
# make a snapshot of rootfs1, write, and print dmsetup status; the origin's
# sha256 is printed before and after.
. /etc/e2e/lib.sh
say origin_sha_before "$(lvsha rootfs1)"
while read -r name chunk size writes; do
	[ -n "$name" ] || continue
	lvcreate -q -y -s -L "$size" -c "${chunk}b" -n cowtest devicevg/rootfs1
	for w in $writes; do
		kind=${w%%:*}
		rest=${w#*:}
		off=${rest%%:*}
		len=${rest#*:}
		src=/dev/urandom
		skip=0
		if [ "$kind" = same ]; then
			src=/dev/devicevg/cowtest
			skip=$((off / 512))
		fi
		dd if=$src of=/dev/devicevg/cowtest bs=512 skip=$skip seek=$((off / 512)) count=$((len / 512)) conv=notrunc 2> /dev/null
	done
	sync
	say "status_$name" "$(dmsetup status devicevg-cowtest)"
	lvremove -q -y devicevg/cowtest
done < /ctl/cases
say origin_sha_after "$(lvsha rootfs1)"
