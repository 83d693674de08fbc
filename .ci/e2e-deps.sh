#!/usr/bin/env bash
# Installs what `make e2e` needs on Debian bookworm (as root): QEMU, lvm2,
# busybox, the Mender client 3.4 and mender-artifact, e2fsprogs, xz, kmod. The
# kernel (linux-image-amd64) is only downloaded and unpacked into
# /var/cache/lvm-um-e2e/kernel, where the test looks for it: installing it
# would run its maintainer scripts, and building the host's own initramfs
# takes ~10 minutes on 2 cores for a kernel this machine never boots.
set -euo pipefail

need=()
for p in qemu-system-x86 lvm2 busybox-static mender-client mender-artifact e2fsprogs xz-utils kmod; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
updated=
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq
	updated=1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cache=/var/cache/lvm-um-e2e
# The unpacked kernel is complete once its modules.dep exists: the package
# does not ship one (its postinst runs depmod), so depmod (kmod) makes it.
if ! ls "$cache"/kernel/lib/modules/*/modules.dep >/dev/null 2>&1; then
	[ -n "$updated" ] || apt-get update -qq
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || { echo "e2e-deps: cannot resolve linux-image-amd64" >&2; exit 1; }
	rm -rf "$cache/deb" "$cache/kernel.new" "$cache/kernel"
	mkdir -p "$cache/deb"
	(cd "$cache/deb" && apt-get download -qq "$pkg" 2>/dev/null)
	dpkg-deb -x "$cache"/deb/"$pkg"_*.deb "$cache/kernel.new"
	for md in "$cache"/kernel.new/lib/modules/*/; do
		/sbin/depmod -b "$cache/kernel.new" "$(basename "$md")"
	done
	mv "$cache/kernel.new" "$cache/kernel"
	rm -rf "$cache/deb"
fi
ls "$cache"/kernel/boot/vmlinuz-* "$cache"/kernel/lib/modules/*/modules.dep
