package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// Issue 14, item 6: --write-unit is range-checked as --chunk-size is (a
// power of two from 512 bytes to 64 MiB; 1TiB ran out of memory, 64GiB
// took 2.7 GB), at once and for every command that takes it, and within
// the range the memory a run needs does not follow W.
func TestBinaryWriteUnitRange(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	old, rootfs := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeTree(t, old, map[string]string{"etc/version": "1\n", "usr/bin/app": strings.Repeat("v1 ", 20000)})
	writeTree(t, rootfs, map[string]string{"etc/version": "2\n", "usr/bin/app": strings.Repeat("v2 ", 20000), "usr/bin/new": strings.Repeat("n", 50000)})
	base := filepath.Join(dir, "base.ext4")
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", "1024", "-d", old, base, "64M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v\n%s", err, out)
	}
	for _, w := range []string{"1TiB", "64GiB", "128MiB", "3000", "256"} {
		for _, args := range [][]string{
			{"estimate", "--base", base, "--rootfs", rootfs},
			{"generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "1GiB", "-n", "v2", "-t", "d", "-o", filepath.Join(dir, "a.mender")},
			{"diff", base, base},
		} {
			start := time.Now()
			code, _, stderr := runBinary(t, append(args, "--write-unit", w)...)
			if code != exitUsage || !strings.Contains(stderr, "write unit") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%s --write-unit %s: exit %d, %q", args[0], w, code, stderr)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("%s --write-unit %s: refused only after %v", args[0], w, d)
			}
		}
	}
	peak := map[string]int64{}
	for _, w := range []string{"4KiB", "1MiB", "64MiB"} {
		cmd := exec.Command(binPath, "estimate", "--base", base, "--rootfs", rootfs, "--write-unit", w)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("W=%s: %v %s", w, err, stderr.String())
		}
		peak[w] = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
	}
	t.Logf("peak RSS by write unit (KiB): %v", peak)
	lo := min(peak["4KiB"], peak["1MiB"])
	if hi := peak["64MiB"]; hi > lo+lo/4+8<<10 {
		t.Errorf("W=64MiB peaked at %d KiB, against %d KiB for small units", hi, lo)
	}
}
