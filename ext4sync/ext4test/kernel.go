package ext4test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// NoKernelEnv disables the kernel judge when set to 1.
const NoKernelEnv = "LVMUM_NO_KERNEL_MOUNT"

var kernelProbe struct {
	once sync.Once
	ok   bool
	why  string
}

// KernelAvailable reports whether images can be loop-mounted read-only
// here (root, mount/umount present, a probe image mounts), and why not.
// The probe runs once per test binary.
func KernelAvailable() (bool, string) {
	kernelProbe.once.Do(func() {
		kernelProbe.ok, kernelProbe.why = probeKernel()
	})
	return kernelProbe.ok, kernelProbe.why
}

func probeKernel() (bool, string) {
	if os.Getenv(NoKernelEnv) == "1" {
		return false, NoKernelEnv + "=1"
	}
	if os.Geteuid() != 0 {
		return false, "not root"
	}
	for _, tool := range []string{"mount", "umount", "mkfs.ext4"} {
		if _, err := exec.LookPath(tool); err != nil {
			return false, tool + " missing"
		}
	}
	dir, err := os.MkdirTemp("", "ext4test-probe-*")
	if err != nil {
		return false, err.Error()
	}
	defer os.RemoveAll(dir)
	img := filepath.Join(dir, "probe.ext4")
	if out, errOut, err := run(nil, "mkfs.ext4", "-q", "-F", img, "1M"); err != nil {
		return false, toolError("mkfs.ext4 probe", err, out, errOut).Error()
	}
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return false, err.Error()
	}
	if err := mountRO(img, mnt); err != nil {
		return false, err.Error()
	}
	if err := unmount(mnt); err != nil {
		return false, err.Error()
	}
	return true, ""
}

func mountRO(img, mnt string) error {
	out, errOut, err := run(nil, "mount", "-t", "ext4", "-o", "ro,loop,noatime", img, mnt)
	if err != nil {
		return toolError("mount -o ro,loop "+img, err, out, errOut)
	}
	return nil
}

// unmount detaches the read-only mount. "Target busy" (exit 32) happens
// when something else briefly holds the new mount (udev or blkid probing
// the loop device while other test packages run in parallel): retry for a
// few seconds, then detach lazily, which is safe for a read-only mount
// nothing of ours still uses.
func unmount(mnt string) error {
	var out, errOut []byte
	var err error
	for try := 0; try < 30; try++ {
		// -d frees the loop device (mount -o loop sets autoclear anyway).
		if out, errOut, err = run(nil, "umount", "-d", mnt); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, _, lerr := run(nil, "umount", "-l", "-d", mnt); lerr == nil {
		return nil
	}
	return toolError("umount "+mnt, err, out, errOut)
}

// SnapshotKernel loop-mounts img read-only and snapshots it with the
// kernel's own ext4 (lstat, statx birth time, getxattr, readlink, content,
// SEEK_DATA ranges). It skips the test when the kernel judge is not
// available; CheckImage asks KernelAvailable first instead. The image is
// always unmounted before it returns.
func SnapshotKernel(t testing.TB, img string) *Snapshot {
	t.Helper()
	if ok, why := KernelAvailable(); !ok {
		t.Skipf("ext4test: kernel judge unavailable: %s", why)
	}
	s, err := SnapshotKernelErr(img)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SnapshotKernelErr is SnapshotKernel returning errors; it does not probe.
func SnapshotKernelErr(img string) (snap *Snapshot, err error) {
	mnt, err := os.MkdirTemp("", "ext4test-mnt-*")
	if err != nil {
		return nil, fmt.Errorf("ext4test: kernel: %w", err)
	}
	defer os.Remove(mnt)
	if err := mountRO(img, mnt); err != nil {
		return nil, err
	}
	defer func() {
		if uerr := unmount(mnt); uerr != nil && err == nil {
			snap, err = nil, uerr
		}
	}()
	snap, err = snapshotDir("kernel", mnt)
	if err != nil {
		return nil, err
	}
	snap.Known = FieldsAll
	return snap, nil
}
