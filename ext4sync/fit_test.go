package ext4sync

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Issue 14, item 3: what the base's filesystem does not declare is never
// written. A tree that would need a feature the base lacks, or that goes
// past ext4's limits at its block size, is refused before anything is
// written, naming the path and the feature.

// refuseSync runs SyncImage and expects an *UnfitError for path naming
// feature, and no output.
func refuseSync(t *testing.T, base string, src *tree.Tree, path, feature string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.ext4")
	_, err := SyncImage(t.Context(), base, src, out, Options{})
	var u *UnfitError
	if !errors.Is(err, ErrUnfit) || !errors.As(err, &u) || u.Path != path || u.Feature != feature {
		t.Fatalf("err = %v, want an UnfitError for /%s needing %q", err, path, feature)
	}
	if feature != "" && !strings.Contains(err.Error(), feature) {
		t.Errorf("message %q does not name %s", err, feature)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written: %v", err)
	}
}

func plainTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mkfs -O ^ext_attr, and a rootfs file with a 300-byte xattr: refused
// (it used to get an xattr block e2fsck calls "i_file_acl ... should be
// zero"); the same release without the xattr syncs clean.
func TestFitExtAttr(t *testing.T) {
	t.Parallel()
	src := plainTree(t, map[string]string{"etc/motd": "hi\n", "usr/bin/tool": "v1"})
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{Features: []string{"^ext_attr"}, NormalizeTimes: true})
	if err := os.WriteFile(filepath.Join(src, "usr/bin/tool"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(filepath.Join(src, "usr/bin/tool"), "user.big", []byte(strings.Repeat("x", 300)), 0); err != nil {
		t.Fatal(err)
	}
	refuseSync(t, base, readTree(t, src), "usr/bin/tool", "ext_attr")
	if err := unix.Removexattr(filepath.Join(src, "usr/bin/tool"), "user.big"); err != nil {
		t.Fatal(err)
	}
	out, _ := syncFile(t, base, src)
	ext4test.CheckImage(t, out, src)
}

// A sparse file of 3 GiB (holes cost nothing) needs large_file.
func TestFitLargeFile(t *testing.T) {
	t.Parallel()
	src := plainTree(t, map[string]string{"etc/motd": "hi\n"})
	base := noLargeFile(t, src)
	if err := os.Truncate(filepath.Join(src, "etc/motd"), 3<<30); err != nil {
		t.Fatal(err)
	}
	refuseSync(t, base, readTree(t, src), "etc/motd", "large_file")
}

// A file larger than ext4 holds at the image's block size is refused:
// 4 TiB with 1 KiB blocks is past any feature; 3 TiB with 4 KiB blocks
// needs huge_file.
func TestFitMaxFileSize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		bs      int
		feature []string
		size    int64
		needs   string
	}{{1024, nil, 4 << 40, ""}, {4096, []string{"^huge_file"}, 3 << 40, "huge_file"}} {
		t.Run(fmt.Sprint(c.bs), func(t *testing.T) {
			t.Parallel()
			src := plainTree(t, map[string]string{"etc/motd": "hi\n", "var/big": ""})
			base := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: c.bs, Features: c.feature, NormalizeTimes: true})
			if err := os.Truncate(filepath.Join(src, "var/big"), c.size); err != nil {
				t.Fatal(err)
			}
			refuseSync(t, base, readTree(t, src), "var/big", c.needs)
		})
	}
	if got, want := MaxFileSize(4096, true), int64(1<<32-1)<<12; got != want {
		t.Errorf("MaxFileSize(4096, huge) = %d, want %d", got, want)
	}
	if got, want := MaxFileSize(4096, false), int64(1<<29-1)<<12; got != want {
		t.Errorf("MaxFileSize(4096, no huge) = %d, want %d", got, want)
	}
}

// A symlink target of a block or more is refused at 1 KiB blocks (the
// sources allow up to 4095 bytes; ext4 keeps a long target in one block,
// with its NUL). Before, it failed mid-sync as an engine error (exit 1).
func TestFitSymlinkTarget(t *testing.T) {
	t.Parallel()
	src := plainTree(t, map[string]string{"etc/motd": "hi\n"})
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 1024, NormalizeTimes: true})
	if err := os.Symlink(strings.Repeat("t", 1024), filepath.Join(src, "long")); err != nil {
		t.Fatal(err)
	}
	refuseSync(t, base, readTree(t, src), "long", "")
}

// More than 64998 subdirectories need dir_nlink. (The tree is made in
// memory: the refusal comes before any inode is allocated.)
func TestFitLinkCounts(t *testing.T) {
	t.Parallel()
	src := plainTree(t, map[string]string{"etc/motd": "hi\n"})
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{Features: []string{"^dir_nlink"}, NormalizeTimes: true})
	root := &tree.Node{Kind: tree.Dir, Mode: 0o755}
	many := &tree.Node{Path: "many", Kind: tree.Dir, Mode: 0o755}
	nodes := []*tree.Node{root, many}
	for i := 0; i < linkMax-1; i++ {
		nodes = append(nodes, &tree.Node{Path: fmt.Sprintf("many/d%05d", i), Kind: tree.Dir, Mode: 0o755})
	}
	refuseSync(t, base, tree.New(nodes, nil), "many", "dir_nlink")
}

// Every feature-gated structure the sync writes, on bases without the
// feature: a random release (files, an htree-sized directory, xattrs
// where allowed) syncs clean for e2fsck and every judge.
func TestFeatureMatrix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		features []string
		inode    int
	}{
		{"no-dir_index", []string{"^dir_index"}, 0},
		{"no-huge_file", []string{"^huge_file"}, 0},
		{"no-large_file", nil, 0},
		{"no-extra_isize", []string{"^extra_isize"}, 0},
		{"no-dir_nlink", []string{"^dir_nlink"}, 0},
		{"no-64bit", []string{"^64bit"}, 0},
		{"gdt_csum", []string{"^metadata_csum,^metadata_csum_seed,uninit_bg"}, 0},
		{"no-csum", []string{"^metadata_csum,^metadata_csum_seed,^uninit_bg"}, 0},
		{"no-flex_bg", []string{"^flex_bg"}, 0},
		{"no-journal", []string{"^has_journal,^orphan_file"}, 0},
		{"no-ext_attr", []string{"^ext_attr"}, 0},
		{"inode128", nil, 128},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := smallTree(4096)
			o.Files, o.BigDir = 60, 300
			noXattr := strings.Contains(c.name, "ext_attr")
			if noXattr {
				o.Xattrs, o.ACLs = false, false
			}
			src := genSource(t, 160, o)
			img := ext4test.ImageOptions{Features: c.features, InodeSize: c.inode, NormalizeTimes: true}
			base := ""
			if c.name == "no-large_file" {
				base = noLargeFile(t, src)
			} else {
				base = ext4test.BuildImage(t, src, img)
			}
			rng := rand.New(rand.NewPCG(161, 162))
			if _, err := ext4test.Mutate(rng, src, ext4test.MutateOptions{Ops: 30, MaxTarget: 4095}); err != nil {
				t.Fatal(err)
			}
			growDir(t, filepath.Join(src, "grown"), 400)
			if noXattr {
				stripXattrs(t, src)
			}
			out, _ := syncFile(t, base, src)
			co := ext4test.EngineCheckOptions()
			if c.inode == 128 {
				co.Compare.Ignore |= ext4test.FieldMtimeNs | ext4test.FieldCrtime
			}
			ext4test.CheckImageWith(t, out, src, co)
		})
	}
}

// noLargeFile builds a base of src without large_file: mkfs (1.47) sets
// it whatever -O says, so debugfs clears it. huge_file implies it, and
// the resize inode's i_size is past 2 GiB, so both are left out too.
func noLargeFile(t *testing.T, src string) string {
	t.Helper()
	base := ext4test.BuildImage(t, src, ext4test.ImageOptions{Features: []string{"^huge_file,^resize_inode"}, NormalizeTimes: true})
	if out, err := exec.Command("debugfs", "-w", "-R", "feature -large_file", base).CombinedOutput(); err != nil || strings.Contains(string(out), "large_file") {
		t.Fatalf("debugfs feature -large_file: %v\n%s", err, out)
	}
	ext4test.Fsck(t, base)
	return base
}

// growDir makes a directory of n files with long names (past one block).
func growDir(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("entry-with-a-rather-long-name-%06d", i)
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// stripXattrs removes every extended attribute (ACLs included) below dir.
func stripXattrs(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		buf := make([]byte, 64<<10)
		n, err := unix.Llistxattr(p, buf)
		if err != nil {
			return err
		}
		for _, name := range strings.Split(string(buf[:n]), "\x00") {
			if name != "" {
				if err := unix.Lremovexattr(p, name); err != nil {
					return fmt.Errorf("%s: %s: %w", p, name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
