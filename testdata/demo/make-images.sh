#!/usr/bin/env bash
# Rebuilds the demo's two rootfs images (maintainers only: needs e2fsprogs;
# `make demo` itself uses the committed .gz files and needs neither root nor
# e2fsprogs).
#
#   v1.ext4.gz  the release the devices run (the base)
#   v2.ext4.gz  the next release freshly built by mkfs.ext4 -d, as Yocto's
#               do_image does: block-shifted against v1 almost everywhere
#
# Both are made like real Yocto output (-i 4096, metadata_csum_seed,
# orphan_file, then fsck -pfD), with a fixed UUID, hash seed and time so the
# script is reproducible.
set -euo pipefail
cd "$(dirname "$0")"
top=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$top" && go run ./blockmap/cmd/releasegen -seed 1 -scale 0.02 -kind patch -base "$work/v1" -next "$work/v2")
for v in v1 v2; do
	E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -i 4096 -O metadata_csum_seed,orphan_file \
		-U 6c766d2d-756d-2d67-656e-2d64656d6f31 -E hash_seed=6c766d2d-756d-2d67-656e-2d6861736831 \
		-L rootfs -d "$work/$v" "$work/$v.ext4" 16M
	E2FSPROGS_FAKE_TIME=1700000000 fsck.ext4 -pfD "$work/$v.ext4" >/dev/null || [ $? -le 1 ]
	gzip -9 -n -c "$work/$v.ext4" >"$v.ext4.gz"
done
ls -l v1.ext4.gz v2.ext4.gz
