package ext4test

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corruptCase changes one thing in an image with debugfs -w; want lists
// the exact Diff lines each judge must then report.
type corruptCase struct {
	name string
	cmd  string
	want map[string][]string // judge -> lines; missing judge: no lines
}

// The judges must fail, and say exactly what differs, when an image
// disagrees with its source in one field.
func TestJudgesCatchCorruption(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.MkdirAll(filepath.Join(src, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "a"), []byte(strings.Repeat("content ", 1000)), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "b"), []byte("b"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "c"), []byte("c"), 0o644))
	must(t, setXattr(filepath.Join(src, "c"), "user.k", []byte("v")))
	must(t, os.Symlink("a", filepath.Join(src, "d", "l")))
	base := BuildImage(t, src, ImageOptions{BlockSize: 1024, Size: 8 << 20})
	opts := MkfsCheckOptions()
	CheckImageWith(t, base, src, opts)
	want := SnapshotDir(t, src)

	cases := []corruptCase{
		{"mode", "sif /b mode 0100600", map[string][]string{
			"debugfs": {"b: mode: want 0644, got 0600"}, "go-ext4": {"b: mode: want 0644, got 0600"},
			"kernel": {"b: mode: want 0644, got 0600"}}},
		{"uid", "sif /b uid 4242", map[string][]string{
			"debugfs": {"b: uid: want 0, got 4242"}, "kernel": {"b: uid: want 0, got 4242"}}},
		{"xattr", "ea_set /c user.k other", map[string][]string{
			"debugfs": {`c: xattr user.k: want "v", got "other"`}, "kernel": {`c: xattr user.k: want "v", got "other"`}}},
		{"xattr-added", "ea_set /b trusted.x 1", map[string][]string{
			"debugfs": {`b: xattr trusted.x: want nothing, got "1"`}, "kernel": {`b: xattr trusted.x: want nothing, got "1"`}}},
		{"content", "zap_block -f /a -o 100 -l 1 -p 0x58 1", map[string][]string{
			"debugfs": {"a: content:"}, "go-ext4": {"a: content:"}, "kernel": {"a: content:"}}},
		{"mtime", "sif /d/l mtime 0x12345678", map[string][]string{
			"debugfs": {"d/l: mtime:"}, "go-ext4": {"d/l: mtime:"}, "kernel": {"d/l: mtime:"}}},
		{"nlink", "sif /c links_count 2", map[string][]string{
			"debugfs": {"c: nlink: want 1, got 2"}, "kernel": {"c: nlink: want 1, got 2"}}},
	}
	kernel, why := KernelAvailable()
	t.Logf("kernel judge: %v %s", kernel, why)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := filepath.Join(t.TempDir(), "img")
			copyFile(t, base, img)
			if _, err := debugfsBatch(img, []string{c.cmd}, true, t.TempDir()); err != nil {
				t.Fatal(err)
			}
			// Only the wrong link count is an inconsistency e2fsck can see;
			// the other changes are legal values that differ from the source.
			if err := FsckErr(img); (err != nil) != (c.name == "nlink") {
				t.Errorf("e2fsck after %q: %v", c.cmd, err)
			}
			judges := map[string]*Snapshot{"debugfs": SnapshotImage(t, img), "go-ext4": SnapshotGoExt4(t, img)}
			if kernel {
				judges["kernel"] = SnapshotKernel(t, img)
			} else {
				t.Log("kernel judge unavailable")
			}
			for name, got := range judges {
				d := Diff(want, got, opts.Compare)
				exp := c.want[name]
				if len(d) != len(exp) {
					t.Errorf("%s: got %d differences %q, want %q", name, len(d), d, exp)
					continue
				}
				for i := range d {
					if !strings.HasPrefix(d[i], exp[i]) {
						t.Errorf("%s: difference %q, want %q", name, d[i], exp[i])
					}
				}
				cap := &captureTB{TB: t}
				ok := Compare(cap, want, got, opts.Compare)
				if ok != (len(exp) == 0) || len(cap.msgs) != map[bool]int{true: 0, false: 1}[ok] {
					t.Errorf("%s: Compare returned %v with messages %q", name, ok, cap.msgs)
				}
				if !ok && !strings.Contains(cap.msgs[0], exp[0]) {
					t.Errorf("%s: Compare message %q lacks %q", name, cap.msgs[0], exp[0])
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, 0o644))
}

// Unwritten (fallocated) extents read as zeros; debugfs and the kernel
// (SEEK_DATA) both count them as allocated ranges, and contents agree.
func TestUnwrittenExtentsAgree(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.Mkdir(src, 0o755))
	img := BuildImage(t, src, ImageOptions{BlockSize: 4096, Size: 8 << 20})
	if _, err := debugfsBatch(img, []string{"write /dev/null fa", "fallocate /fa 0 9", "sif /fa size 40000"},
		true, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	Fsck(t, img)
	d := SnapshotImage(t, img)
	e := d.Entries["fa"]
	if e == nil || e.Size != 40000 || fmtSegs(e.Data) != "[0+40000]" {
		t.Fatalf("debugfs entry %+v, want size 40000 and data [0+40000]", e)
	}
	zeros := fmt.Sprintf("%x", sha256.Sum256(make([]byte, 40000)))
	if e.SHA256 != zeros {
		t.Errorf("debugfs content %s, want zeros %s", e.SHA256, zeros)
	}
	if ok, _ := KernelAvailable(); ok {
		Compare(t, d, SnapshotKernel(t, img), CompareOptions{Times: TimesExact})
	}
	Compare(t, d, SnapshotGoExt4(t, img), CompareOptions{})
}

// Names with spaces, quotes, backslashes, non-ASCII bytes and 255-byte
// names survive every judge.
func TestOddNames(t *testing.T) {
	t.Parallel()
	RequireTools(t, "mkfs.ext4", "e2fsck", "debugfs")
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.MkdirAll(filepath.Join(src, "dir with space"), 0o755))
	for _, n := range []string{"a b", `q"uote`, `back\slash`, "ünï", "tab\there", strings.Repeat("n", 255),
		"dir with space/x y", "-dash", "*star?"} {
		must(t, os.WriteFile(filepath.Join(src, n), []byte(n), 0o644))
	}
	must(t, os.Symlink("target with space", filepath.Join(src, "link with space")))
	must(t, setXattr(filepath.Join(src, "a b"), "user.with space", []byte("v")))
	img := BuildImage(t, src, ImageOptions{BlockSize: 1024, Size: 8 << 20})
	CheckImageWith(t, img, src, MkfsCheckOptions())
}
