package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Fixed identity of every image, so runs are comparable byte for byte.
const (
	imageUUID = "4c564d55-6d67-656e-2d62-656e63680001"
	hashSeed  = "4c564d55-6d67-656e-2d62-656e63680002"
)

// fsckFixedOK is fsck -p's exit code for "errors corrected" (-D always
// rebuilds directories, so it is normal for a fresh image).
const fsckFixedOK = 1

// mkfsArgs are the options of a Yocto-like rootfs image of blockSize
// blocks holding dir.
func mkfsArgs(blockSize int, dir, img string, sizeMiB int) []string {
	return []string{
		"-q", "-F", "-i", "4096",
		"-O", "metadata_csum_seed,orphan_file",
		"-b", strconv.Itoa(blockSize),
		"-U", imageUUID, "-E", "hash_seed=" + hashSeed,
		"-d", dir, img, strconv.Itoa(sizeMiB) + "M",
	}
}

var e2fsEnv = []string{"E2FSPROGS_FAKE_TIME=" + fakeTime}

// mkfs formats img from dir, returning what mkfs.ext4 alone cost.
func mkfs(blockSize int, dir, img string, sizeMiB int) (usage, error) {
	return run(e2fsEnv, "mkfs.ext4", mkfsArgs(blockSize, dir, img, sizeMiB))
}

// buildImage is what a Yocto image recipe does: mkfs.ext4 -d, then
// fsck.ext4 -pfD (optimise directories).
func buildImage(blockSize int, dir, img string, sizeMiB int) error {
	if _, err := mkfs(blockSize, dir, img, sizeMiB); err != nil {
		return err
	}
	_, err := run(e2fsEnv, "fsck.ext4", []string{"-pfD", img}, fsckFixedOK)
	return err
}

// fsckClean checks that img is a consistent filesystem (e2fsck -fn, exit 0).
func fsckClean(img string) error {
	_, err := run(e2fsEnv, "e2fsck", []string{"-fn", img})
	return err
}

// rsyncSkip says why the rsync --inplace method cannot run here, or "".
func rsyncSkip() string {
	if !haveTool("rsync") {
		return "skipped: rsync not installed"
	}
	if os.Geteuid() != 0 {
		return "skipped: needs root for a loop mount"
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		return "skipped: no loop devices"
	}
	if !haveTool("mount") || !haveTool("umount") {
		return "skipped: mount/umount not installed"
	}
	return ""
}

// rsyncInplace is the method the original write-up proposed: copy the
// base, loop-mount it, rsync -aHAX --inplace --delete the new tree into
// it, unmount. It returns the path of the resulting image.
func rsyncInplace(base, dir, work string) (string, error) {
	img := filepath.Join(work, "rsync.img")
	if err := copyFile(base, img); err != nil {
		return "", err
	}
	mnt := filepath.Join(work, "rsync.mnt")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return "", fmt.Errorf("releasebench: rsync mount point: %w", err)
	}
	if _, err := run(nil, "mount", []string{"-o", "loop", img, mnt}); err != nil {
		return "", err
	}
	_, rerr := run(nil, "rsync", []string{"-aHAX", "--inplace", "--delete", dir + "/", mnt + "/"})
	_, uerr := run(nil, "umount", []string{mnt})
	if rerr != nil {
		return "", rerr
	}
	if uerr != nil {
		return "", uerr
	}
	return img, nil
}

// copyFile copies src to dst (created or truncated).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("releasebench: copy: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("releasebench: copy: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("releasebench: copy %s: %w", src, err)
	}
	return out.Close()
}
