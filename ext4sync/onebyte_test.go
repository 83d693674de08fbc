package ext4sync

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

const (
	bigFile    = "usr/lib/big.bin"
	bigSize    = 256 << 10
	flipOffset = 5*4096 + 123 // inside logical block 5 of a 4 KiB image
)

// debugfsRun runs one debugfs request on img (read-only) and returns its
// output.
func debugfsRun(t testing.TB, img, req string) string {
	t.Helper()
	ext4test.RequireTools(t, "debugfs")
	out, err := exec.Command("debugfs", "-R", req, img).Output()
	if err != nil {
		t.Fatalf("debugfs -R %q: %v", req, err)
	}
	return strings.TrimSpace(string(out))
}

// largeTreeWithBig is a larger generated tree plus one dense file whose
// blocks are known.
func largeTreeWithBig(t testing.TB) string {
	o := smallTree(configs[0].img.BlockSize)
	o.Files, o.Dirs = 600, 80
	src := genSource(t, 3, o)
	data := make([]byte, bigSize)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rng.IntN(255) + 1) // never an all-zero block
	}
	if err := os.MkdirAll(filepath.Join(src, filepath.Dir(bigFile)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, bigFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

// flip changes one byte of the big file in src.
func flip(t testing.TB, src string) {
	p := filepath.Join(src, bigFile)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[flipOffset] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A one-byte change in one file of a large tree writes only that file's
// block; with a new mtime, also its inode's block of the inode table.
func TestOneByteChange(t *testing.T) {
	t.Parallel()
	src := largeTreeWithBig(t)
	base := ext4test.BuildImage(t, src, configs[0].img)
	img, _ := syncFile(t, base, src) // the release the device runs now
	ext4test.CheckImage(t, img, src)

	blk, err := strconv.ParseUint(debugfsRun(t, img, "bmap /"+bigFile+" "+strconv.Itoa(flipOffset/4096)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("same mtime", func(t *testing.T) {
		keepMtime(t, filepath.Join(src, bigFile), func() { flip(t, src) })
		defer keepMtime(t, filepath.Join(src, bigFile), func() { flip(t, src) })
		dev, res := syncOverlay(t, img, src)
		if got := dev.ChangedBlocks(); !reflect.DeepEqual(got, []int64{int64(blk)}) {
			t.Errorf("changed blocks %v, want only the data block [%d]; touched %v", got, blk, res.Touched)
		}
		if res.Changed != 1 || res.Added != 0 || res.Removed != 0 {
			t.Errorf("result %+v", *res)
		}
		out := filepath.Join(t.TempDir(), "out.ext4")
		if err := dev.WriteFile(out); err != nil {
			t.Fatal(err)
		}
		ext4test.CheckImage(t, out, src)
	})

	t.Run("new mtime", func(t *testing.T) {
		p := filepath.Join(src, bigFile)
		flip(t, src)
		defer flip(t, src)
		when := time.Unix(1750000000, 42)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		itable := inodeTableBlock(t, img, "/"+bigFile)
		dev, res := syncOverlay(t, img, src)
		want := []int64{int64(itable), int64(blk)}
		if itable > blk {
			want[0], want[1] = want[1], want[0]
		}
		if got := dev.ChangedBlocks(); !reflect.DeepEqual(got, want) {
			t.Errorf("changed blocks %v, want data block %d and inode table block %d; touched %v", got, blk, itable, res.Touched)
		}
		if len(res.Touched) != 1 || res.Touched[0].Path != bigFile {
			t.Errorf("touched %v, want only %s", res.Touched, bigFile)
		}
	})
}

// inodeTableBlock asks debugfs where the inode of path lives.
func inodeTableBlock(t testing.TB, img, path string) uint64 {
	out := debugfsRun(t, img, "imap "+path)
	// "Inode 12 is part of block group 0\n\tlocated at block 1234, offset 0x0b00"
	i := strings.Index(out, "located at block ")
	if i < 0 {
		t.Fatalf("imap %s: %q", path, out)
	}
	rest := out[i+len("located at block "):]
	n, err := strconv.ParseUint(strings.TrimSpace(rest[:strings.IndexByte(rest, ',')]), 10, 64)
	if err != nil {
		t.Fatalf("imap %s: %q: %v", path, out, err)
	}
	return n
}
