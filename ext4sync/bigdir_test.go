package ext4sync

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// Issue 14, item 7: a directory that grows past one block becomes an
// htree when the filesystem has dir_index, as the kernel makes it (a full
// one-block linear directory is indexed on the next add), so a new
// 3000-name directory and a one-block directory that gains 2000 names are
// indexed; a directory that is already linear over several blocks stays
// linear (the kernel does not index it either) and without dir_index
// every directory stays linear. Each image passes e2fsck -fn and the
// independent readers; debugfs's htree dump shows the index.
func TestLargeDirectories(t *testing.T) {
	cases := []struct {
		name      string
		img       ext4test.ImageOptions
		noIndex   bool // build the base with mkfs -d alone: its large directories stay linear
		before    int  // names the directory has in the base (-1: it does not exist)
		after     int  // names it has in the release
		wantIndex bool
	}{
		{name: "new-1k", img: ext4test.ImageOptions{BlockSize: 1024}, before: -1, after: 3000, wantIndex: true},
		{name: "new-4k", img: ext4test.ImageOptions{BlockSize: 4096}, before: -1, after: 3000, wantIndex: true},
		{name: "grown-one-block", img: ext4test.ImageOptions{BlockSize: 1024}, before: 10, after: 2000, wantIndex: true},
		{name: "grown-linear", img: ext4test.ImageOptions{BlockSize: 1024}, noIndex: true, before: 400, after: 2400},
		{name: "no-dir_index", img: ext4test.ImageOptions{BlockSize: 1024, Features: []string{"^dir_index"}}, before: -1, after: 2000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := t.TempDir()
			if err := os.WriteFile(filepath.Join(src, "version"), []byte("1\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if c.before >= 0 {
				fillDir(t, filepath.Join(src, "big"), 0, c.before)
			}
			var base string
			if c.noIndex {
				base = mkfsOnly(t, src, c.img)
			} else {
				base = ext4test.BuildImage(t, src, c.img)
			}
			if c.before > 0 {
				t.Logf("base: /big %s", dirShape(t, base, "/big"))
			}
			fillDir(t, filepath.Join(src, "big"), max(c.before, 0), c.after)
			out, _ := syncFile(t, base, src)
			ext4test.CheckImage(t, out, src)
			if indexed := dirIndexed(t, out, "/big"); indexed != c.wantIndex {
				t.Errorf("/big indexed %v, want %v: %s", indexed, c.wantIndex, dirShape(t, out, "/big"))
			}
			t.Logf("release: /big %s", dirShape(t, out, "/big"))
		})
	}
}

// fillDir creates empty files from..to-1 in dir, names of varied length.
func fillDir(t *testing.T, dir string, from, to int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		name := fmt.Sprintf("entry-%05d-%s", i, strings.Repeat("x", i%37))
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// mkfsOnly builds an image of src with mkfs.ext4 -d and no fsck -D, so a
// directory larger than a block is linear over several blocks.
func mkfsOnly(t *testing.T, src string, o ext4test.ImageOptions) string {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4")
	img := filepath.Join(t.TempDir(), "base.ext4")
	args := append(o.MkfsArgs(), "-d", src, img, strconv.FormatInt(ext4test.DefaultSize/1024, 10)+"k")
	if out, err := exec.Command("mkfs.ext4", args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %v: %v\n%s", args, err, out)
	}
	ext4test.Fsck(t, img)
	if dirIndexed(t, img, "/big") {
		t.Fatal("mkfs.ext4 -d indexed /big")
	}
	return img
}

var debugfsFlags = regexp.MustCompile(`Flags: 0x([0-9a-f]+)`)

// dirIndexed reports whether debugfs sees the directory's INDEX flag and
// an htree root it can dump.
func dirIndexed(t *testing.T, img, path string) bool {
	t.Helper()
	m := debugfsFlags.FindStringSubmatch(debugfsRun(t, img, "stat "+path))
	if m == nil {
		t.Fatalf("debugfs stat %s: no flags", path)
	}
	fl, _ := strconv.ParseUint(m[1], 16, 32)
	if disk.InodeFlags(fl)&disk.FlagIndex == 0 {
		return false
	}
	if dump := debugfsRun(t, img, "htree "+path); !strings.Contains(dump, "Root node dump") {
		t.Fatalf("%s has the INDEX flag but debugfs dumps no htree: %s", path, dump)
	}
	return true
}

// dirShape is the directory's size and, when indexed, its index depth.
func dirShape(t *testing.T, img, path string) string {
	t.Helper()
	st := debugfsRun(t, img, "stat "+path)
	size := regexp.MustCompile(`Size: (\d+)`).FindStringSubmatch(st)
	s := "size " + size[1]
	if m := regexp.MustCompile(`Indirect levels: (\d+)`).FindStringSubmatch(debugfsRun(t, img, "htree "+path)); m != nil {
		s += ", htree indirect levels " + m[1]
	}
	return s
}
