package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// outputFixture is a small real release: a mkfs base, a new rootfs tree
// and a directory the outputs go to.
type outputFixture struct {
	dir, base, rootfs, out string
}

func newOutputFixture(t *testing.T) *outputFixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	f := &outputFixture{dir: dir, base: filepath.Join(dir, "base.ext4"), rootfs: filepath.Join(dir, "new"), out: filepath.Join(dir, "out")}
	old := filepath.Join(dir, "old")
	writeTree(t, old, map[string]string{"etc/version": "1\n", "usr/bin/app": strings.Repeat("v1 ", 5000)})
	writeTree(t, f.rootfs, map[string]string{"etc/version": "2\n", "usr/bin/app": strings.Repeat("v2 ", 5000), "usr/bin/new": "new\n"})
	mkfsImage(t, old, f.base, "8M")
	if err := os.Mkdir(f.out, 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *outputFixture) generate(extra ...string) []string {
	return append([]string{"generate", "--base", f.base, "--rootfs", f.rootfs, "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "d"}, extra...)
}

// needRoot skips (or, with LVMUM_REQUIRE_TOOLS=1, fails) a test that
// needs root for what.
func needRoot(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("LVMUM_REQUIRE_TOOLS") == "1" {
		t.Fatalf("needs root (%s) and LVMUM_REQUIRE_TOOLS=1", what)
	}
	t.Skipf("needs root (%s)", what)
}

// readFIFO reads the FIFO p to its end in the background: opening it
// blocks until a writer opens it.
func readFIFO(p string) chan []byte {
	got := make(chan []byte, 1)
	go func() {
		r, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(r)
		r.Close()
		got <- b
	}()
	return got
}

// nodeState is what must not change about a special output path.
type nodeState struct {
	mode   uint32
	rdev   uint64
	ino    uint64
	target string
}

func lstate(t *testing.T, p string) nodeState {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	s := nodeState{mode: st.Mode, rdev: st.Rdev, ino: st.Ino}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		s.target, _ = os.Readlink(p)
	}
	return s
}

// outputKind is a check of what an output stream delivered.
type outputKind struct {
	flag  string
	check func(t *testing.T, got []byte)
}

func outputKinds(f *outputFixture) []outputKind {
	artifact := func(t *testing.T, got []byte) {
		// The outer tar of a Mender artifact starts with "version".
		if len(got) < 512 || !bytes.HasPrefix(got, []byte("version")) {
			t.Errorf("not an artifact: %d bytes %.40q", len(got), got)
		}
	}
	image := func(t *testing.T, got []byte) {
		if len(got) < 2048 || binary.LittleEndian.Uint16(got[1024+0x38:]) != 0xef53 {
			t.Fatalf("not an ext4 image: %d bytes", len(got))
		}
		img := filepath.Join(t.TempDir(), "streamed.ext4")
		if err := os.WriteFile(img, got, 0o644); err != nil {
			t.Fatal(err)
		}
		co := ext4test.EngineCheckOptions()
		co.Compare.Times = ext4test.TimesIgnore
		co.Compare.Ignore = ext4test.FieldMtimeNs | ext4test.FieldMode | ext4test.FieldUID | ext4test.FieldGID
		co.Compare.IgnoreAt = map[string]ext4test.Field{"": ext4test.FieldMtime}
		ext4test.CheckImageWith(t, img, f.rootfs, co)
	}
	report := func(t *testing.T, got []byte) {
		var r map[string]any
		if err := json.Unmarshal(got, &r); err != nil || r["schema"] == nil {
			t.Errorf("not a report: %v %.60q", err, got)
		}
	}
	svg := func(t *testing.T, got []byte) {
		if !bytes.Contains(got, []byte("<svg")) {
			t.Errorf("not an SVG map: %.60q", got)
		}
	}
	return []outputKind{{"-o", artifact}, {"--image-out", image}, {"--report", report}, {"--map", svg}}
}

// args gives the flags of one run: the output under test at p, and a
// regular artifact path unless -o is the one under test.
func (f *outputFixture) args(flag, p string) []string {
	if flag == "-o" {
		return f.generate("-o", p, "-q")
	}
	return f.generate("-o", filepath.Join(f.out, "a.mender"), flag, p, "-q")
}

// Issue 14, item 1: an output path that exists and is not a regular file
// is never unlinked or renamed over. A character device and a FIFO are
// written through; a symlink to /proc/self/fd/1 (what /dev/stdout is)
// writes to the process's standard output; a block device is refused
// with exit 2. Every output flag of generate, and estimate's --map.
func TestBinaryNonRegularOutputs(t *testing.T) {
	needRoot(t, "mknod")
	f := newOutputFixture(t)
	for _, k := range outputKinds(f) {
		t.Run(strings.TrimLeft(k.flag, "-")+"/chardev", func(t *testing.T) {
			p := filepath.Join(f.dir, "null")
			if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(p)
			before := lstate(t, p)
			if code, _, stderr := runBinary(t, f.args(k.flag, p)...); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if after := lstate(t, p); after != before {
				t.Errorf("the character device was replaced: %+v, now %+v", before, after)
			}
		})
		t.Run(strings.TrimLeft(k.flag, "-")+"/fifo", func(t *testing.T) {
			p := filepath.Join(f.dir, "fifo")
			if err := unix.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(p)
			before := lstate(t, p)
			got := readFIFO(p)
			code, _, stderr := runBinary(t, f.args(k.flag, p)...)
			if code != 0 {
				os.WriteFile(p, nil, 0) // unblock the reader
				t.Fatalf("exit %d: %s", code, stderr)
			}
			select {
			case b := <-got:
				k.check(t, b)
			case <-time.After(30 * time.Second):
				t.Error("the FIFO's reader got nothing")
			}
			if after := lstate(t, p); after != before {
				t.Errorf("the FIFO was replaced: %+v, now %+v", before, after)
			}
		})
		t.Run(strings.TrimLeft(k.flag, "-")+"/stdout-symlink", func(t *testing.T) {
			p := filepath.Join(f.dir, "stdout")
			if err := os.Symlink("/proc/self/fd/1", p); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(p)
			before := lstate(t, p)
			args := f.args(k.flag, p)
			args = args[:len(args)-1] // not quiet: the summary must keep off stdout
			code, stdout, stderr := runBinary(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			k.check(t, []byte(stdout))
			if !strings.Contains(stderr, "predicted COW") {
				t.Errorf("the summary did not go to stderr: %q", stderr)
			}
			if after := lstate(t, p); after != before {
				t.Errorf("the symlink was replaced: %+v, now %+v", before, after)
			}
		})
		t.Run(strings.TrimLeft(k.flag, "-")+"/blockdev", func(t *testing.T) {
			p := filepath.Join(f.dir, "blk")
			if err := unix.Mknod(p, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 0))); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(p)
			before := lstate(t, p)
			code, _, stderr := runBinary(t, f.args(k.flag, p)...)
			if code != exitUsage || !strings.Contains(stderr, "block device") || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d: %q", code, stderr)
			}
			if after := lstate(t, p); after != before {
				t.Errorf("the block device was replaced: %+v, now %+v", before, after)
			}
		})
	}
	for _, dir := range []string{f.out, f.dir} {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if n := e.Name(); strings.HasPrefix(n, ".") || strings.Contains(n, "tmp") {
				t.Errorf("left behind in %s: %s", dir, n)
			}
		}
	}
	// "-o -" is standard output too.
	code, stdout, stderr := runBinary(t, f.generate("-o", "-")...)
	if code != 0 || !bytes.HasPrefix([]byte(stdout), []byte("version")) || !strings.Contains(stderr, "predicted COW") {
		t.Fatalf("-o -: exit %d, stdout %.20q, stderr %q", code, stdout, stderr)
	}
}

// Estimate's --map: a character device and a FIFO are written through; a
// symlink to standard output is refused (exit 2), as estimate prints its
// own report there; a block device is refused.
func TestBinaryEstimateMapOutputs(t *testing.T) {
	needRoot(t, "mknod")
	f := newOutputFixture(t)
	estimate := func(p string) []string {
		return []string{"estimate", "--base", f.base, "--rootfs", f.rootfs, "--map", p}
	}
	null := filepath.Join(f.dir, "null")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(f.dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout := filepath.Join(f.dir, "stdout")
	if err := os.Symlink("/proc/self/fd/1", stdout); err != nil {
		t.Fatal(err)
	}
	blk := filepath.Join(f.dir, "blk")
	if err := unix.Mknod(blk, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 0))); err != nil {
		t.Fatal(err)
	}
	states := map[string]nodeState{}
	for _, p := range []string{null, fifo, stdout, blk} {
		states[p] = lstate(t, p)
	}
	if code, _, stderr := runBinary(t, estimate(null)...); code != 0 {
		t.Fatalf("chardev: exit %d: %s", code, stderr)
	}
	got := readFIFO(fifo)
	if code, _, stderr := runBinary(t, estimate(fifo)...); code != 0 {
		os.WriteFile(fifo, nil, 0)
		t.Fatalf("fifo: exit %d: %s", code, stderr)
	}
	select {
	case b := <-got:
		if !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("fifo got %.60q", b)
		}
	case <-time.After(30 * time.Second):
		t.Error("the FIFO's reader got nothing")
	}
	for _, p := range []string{stdout, blk, "-"} {
		if code, _, stderr := runBinary(t, estimate(p)...); code != exitUsage || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d: %q", p, code, stderr)
		}
	}
	for p, s := range states {
		if after := lstate(t, p); after != s {
			t.Errorf("%s was replaced: %+v, now %+v", p, s, after)
		}
	}
}
