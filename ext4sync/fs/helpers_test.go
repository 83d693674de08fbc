package fs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// makeTree writes a small rootfs-like tree.
func makeTree(t testing.TB) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	files := map[string]string{
		"etc/hostname":      "box\n",
		"etc/passwd":        "root:x:0:0:root:/root:/bin/sh\n",
		"usr/bin/tool":      strings.Repeat("binary-ish content\n", 900),
		"usr/lib/libx.so.1": strings.Repeat("\x7fELF", 5000),
		"var/log/.keep":     "",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libx.so.1", filepath.Join(root, "usr/lib/libx.so")); err != nil {
		t.Fatal(err)
	}
	return root
}

// buildImage makes a Yocto-like image with mkfs.ext4 -d and fsck -pfD.
func buildImage(t testing.TB, blockSize, size string, extra ...string) string {
	t.Helper()
	img := mkfsImage(t, blockSize, size, extra...)
	out, err := exec.Command(ext4test.Tool(t, "fsck.ext4"), "-pfD", img).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() <= 1) {
		t.Fatalf("fsck.ext4 -pfD: %v: %s", err, out)
	}
	return img
}

// mkfsImage is buildImage without the fsck pass (for images Open must
// refuse anyway; fsck of an mmp image waits for the MMP interval).
func mkfsImage(t testing.TB, blockSize, size string, extra ...string) string {
	t.Helper()
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	img := filepath.Join(t.TempDir(), "base.img")
	args := []string{"-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", blockSize}
	args = append(args, extra...)
	args = append(args, "-d", makeTree(t), img, size)
	if out, err := exec.Command(mkfs, args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %v: %v: %s", args, err, out)
	}
	return img
}

// memDev is a Device over an image file that keeps every write in
// memory (pages of devPage bytes) and counts writes; the file itself is
// never changed. save materialises the result as a new sparse file.
type memDev struct {
	path   string
	base   *os.File
	size   int64
	pages  map[int64][]byte
	writes int
}

const devPage = 4096

func loadDev(t testing.TB, img string) *memDev {
	t.Helper()
	fh, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return &memDev{path: img, base: fh, size: st.Size(), pages: map[int64][]byte{}}
}

// page returns the current bytes of page pg (a copy when not yet written).
func (d *memDev) page(pg int64) ([]byte, error) {
	if p, ok := d.pages[pg]; ok {
		return p, nil
	}
	p := make([]byte, devPage)
	n, err := d.base.ReadAt(p, pg*devPage)
	if err != nil && !(errors.Is(err, io.EOF) && pg*devPage+int64(n) == d.size) {
		return nil, err
	}
	return p, nil
}

func (d *memDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= d.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > d.size-off {
		p = p[:d.size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		pg, err := d.page(pos / devPage)
		if err != nil {
			return done, err
		}
		done += copy(p[done:], pg[pos%devPage:])
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

func (d *memDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > d.size {
		return 0, errors.New("memDev: write beyond end")
	}
	d.writes++
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		pg, err := d.page(pos / devPage)
		if err != nil {
			return done, err
		}
		d.pages[pos/devPage] = pg
		done += copy(pg[pos%devPage:], p[done:])
	}
	return done, nil
}

// truncate makes the device end at size bytes.
func (d *memDev) truncate(size int64) { d.size = size }

// save writes the device's bytes to a new sparse file and returns its path.
func (d *memDev) save(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "out.img")
	if out, err := exec.Command("cp", "--sparse=always", d.path, p).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	fh, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	for pg, b := range d.pages {
		if _, err := fh.WriteAt(b, pg*devPage); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// e2fsckClean runs e2fsck -fn and fails the test unless it exits 0.
func e2fsckClean(t testing.TB, img string) {
	t.Helper()
	out, err := exec.Command(ext4test.Tool(t, "e2fsck"), "-fn", img).CombinedOutput()
	if err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
}

// debugfs runs one read-only debugfs request.
func debugfs(t testing.TB, img, req string) string {
	t.Helper()
	out, err := exec.Command(ext4test.Tool(t, "debugfs"), "-R", req, img).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs -R %q: %v\n%s", req, err, out)
	}
	return string(out)
}

// dumpe2fs returns the "Key: value" header fields and the group lines.
func dumpe2fs(t testing.TB, img string) (map[string]string, []string) {
	t.Helper()
	out, err := exec.Command(ext4test.Tool(t, "dumpe2fs"), img).Output()
	if err != nil {
		t.Fatalf("dumpe2fs: %v", err)
	}
	hdr := map[string]string{}
	var groups []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "Group ") || strings.HasPrefix(l, "  ") {
			groups = append(groups, l)
			continue
		}
		if k, v, ok := strings.Cut(l, ":"); ok {
			hdr[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return hdr, groups
}
