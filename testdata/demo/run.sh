#!/usr/bin/env bash
# make demo: the whole flow on the bundled demo data, no root, no e2fsprogs.
#   v1.ext4.gz  the image the devices run (the base)
#   v2.ext4.gz  the next release as Yocto's do_image builds it (mkfs.ext4 -d):
#               block-shifted against v1 almost everywhere
# Outputs go to out/demo/.
set -euo pipefail
bin=${1:-bin/lvm-um-gen}
here=$(cd "$(dirname "$0")" && pwd)
out=out/demo
rm -rf "$out" && mkdir -p "$out"
gunzip -c "$here/v1.ext4.gz" >"$out/v1.ext4"
gunzip -c "$here/v2.ext4.gz" >"$out/v2.ext4"
export SOURCE_DATE_EPOCH=1700000000

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "What shipping the freshly built image would cost (the block-shift problem)" \
	"$bin" diff "$out/v1.ext4" "$out/v2.ext4" --write-unit 4KiB
step "The same release applied in place by lvm-um-gen, packaged as an lvm-um artifact" \
	"$bin" generate --base "$out/v1.ext4" --rootfs "$out/v2.ext4" \
	--snapshot-size 24MiB -n demo-v2 -t demo-device -o "$out/demo-v2.mender" \
	--image-out "$out/v2-inplace.ext4" --report "$out/demo-v2.json" --map "$out/demo-v2.svg"
step "Its cost per 4 KiB write unit, for comparison with the first step" \
	"$bin" diff "$out/v1.ext4" "$out/v2-inplace.ext4" --write-unit 4KiB
step "The same release as an lvm-um-delta artifact: only the chunks that differ from v1" \
	"$bin" generate --base "$out/v1.ext4" --rootfs "$out/v2.ext4" --delta --quiet \
	--snapshot-size 24MiB -n demo-v2 -t demo-device -o "$out/demo-v2-delta.mender"
step "Full and delta artifact" ls -l "$out/demo-v2.mender" "$out/demo-v2-delta.mender"

printf '\n\033[1m== A snapshot too small for the release is refused (exit 3), and nothing is written\033[0m\n'
set +e
"$bin" generate --base "$out/v1.ext4" --rootfs "$out/v2.ext4" --snapshot-size 8MiB \
	-n demo-v2-big -t demo-device -o "$out/refused.mender" --report "$out/refused.json"
rc=$?
set -e
echo "exit code: $rc; artifact written: $([ -e "$out/refused.mender" ] && echo yes || echo no)"
[ "$rc" -eq 3 ] && [ ! -e "$out/refused.mender" ]

printf '\nOutputs in %s: demo-v2.mender (artifact), demo-v2-delta.mender (delta artifact), demo-v2.json (report), demo-v2.svg (map of changed write units)\n' "$out"
