package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"

	"golang.org/x/sys/unix"
)

// Issue 14, items 3 and 5, as a user meets them: a base made with
// mkfs.ext4 -O ^ext_attr and a rootfs file with a 300-byte xattr, and a
// `truncate -s 4T` file over a 1 KiB-block base (past ext4's largest file
// there), are exit 2 naming the file and the feature or limit, with
// nothing left behind.
func TestBinaryUnfitRootfs(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	old := filepath.Join(dir, "old")
	writeTree(t, old, map[string]string{"etc/version": "1\n", "usr/bin/tool": "v1"})
	for _, c := range []struct {
		name, mkfsOpt, want string
		change              func(rootfs string) error
	}{
		{"xattr without ext_attr", "^ext_attr", "/usr/bin/tool: has the extended attribute user.big (300 bytes), which needs the ext_attr feature the base image lacks",
			func(r string) error {
				return unix.Setxattr(filepath.Join(r, "usr/bin/tool"), "user.big", []byte(strings.Repeat("x", 300)), 0)
			}},
		{"4 TiB with 1 KiB blocks", "", "/var/huge: is 4398046511104 bytes, more than ext4 holds in one file with 1024-byte blocks",
			func(r string) error {
				if err := os.MkdirAll(filepath.Join(r, "var"), 0o755); err != nil {
					return err
				}
				f, err := os.Create(filepath.Join(r, "var/huge"))
				if err != nil {
					return err
				}
				defer f.Close()
				return f.Truncate(4 << 40)
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "base.ext4")
			args := []string{"-q", "-F", "-b", "1024"}
			if c.mkfsOpt != "" {
				args = append(args, "-O", c.mkfsOpt)
			}
			if out, err := exec.Command(mkfs, append(args, "-d", old, base, "16M")...).CombinedOutput(); err != nil {
				t.Fatalf("mkfs: %v\n%s", err, out)
			}
			rootfs := filepath.Join(t.TempDir(), "new")
			writeTree(t, rootfs, map[string]string{"etc/version": "2\n", "usr/bin/tool": "v2"})
			if err := c.change(rootfs); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out")
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runBinary(t, "generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "32MiB",
				"-n", "v2", "-t", "d", "-o", filepath.Join(out, "a.mender"), "--image-out", filepath.Join(out, "a.ext4"))
			if code != exitUsage || !strings.Contains(stderr, "--rootfs "+rootfs) || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if left := leftovers(t, out); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}
