package ext4sync

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
)

// smallImage is a 4 KiB-block fixture of size bytes.
func smallImage(size int64) ext4test.ImageOptions {
	return ext4test.ImageOptions{BlockSize: 4096, Size: size, NormalizeTimes: true}
}

// A release bigger than the image fails with the fs's space error (which
// says what was needed and what was free), and no output is written.
func TestOutOfSpace(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	base := ext4test.BuildImage(t, src, smallImage(8<<20))
	data := make([]byte, 16<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32() | 1)
	}
	if err := os.WriteFile(filepath.Join(src, "huge"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.ext4")
	_, err := SyncImage(t.Context(), base, readTree(t, src), out, Options{})
	if !errors.Is(err, fs.ErrNoSpace) {
		t.Fatalf("err %v, want fs.ErrNoSpace", err)
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "/huge") {
		t.Errorf("error %q does not name the file", err)
	}
	if _, serr := os.Stat(out); !os.IsNotExist(serr) {
		t.Errorf("output written after failure: %v", serr)
	}
}

// More paths than the image has inodes fails with the fs's inode error.
func TestOutOfInodes(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	base := ext4test.BuildImage(t, src, smallImage(4<<20)) // -i 4096: 1024 inodes
	for i := 0; i < 1100; i++ {
		if err := os.WriteFile(filepath.Join(src, "f"+strconv.Itoa(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := SyncImage(t.Context(), base, readTree(t, src), filepath.Join(t.TempDir(), "out.ext4"), Options{})
	if !errors.Is(err, fs.ErrNoInodes) {
		t.Fatalf("err %v, want fs.ErrNoInodes", err)
	}
	t.Log(err)
}

// A source without /lost+found keeps the image's (mkfs -d always makes
// one); a source with one gives its metadata and content to the image's
// directory, which keeps its inode, as mkfs -d does.
func TestLostFound(t *testing.T) {
	t.Parallel()
	src := genSource(t, 11, smallTree(4096))
	base := ext4test.BuildImage(t, src, configs[0].img)
	lfIno := func(img string) string {
		out := debugfsRun(t, img, "imap /"+plan.LostFound)
		return strings.Fields(out)[1]
	}
	want := lfIno(base)

	out1, res := syncFile(t, base, src)
	ext4test.CheckImage(t, out1, src)
	if got := lfIno(out1); got != want {
		t.Errorf("lost+found moved from inode %s to %s", want, got)
	}
	if res.Removed != 0 {
		t.Errorf("sync without lost+found removed %d paths", res.Removed)
	}

	lf := filepath.Join(src, plan.LostFound)
	if err := os.Mkdir(lf, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lf, "found"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	out2, _ := syncFile(t, out1, src)
	ext4test.CheckImage(t, out2, src)
	if got := lfIno(out2); got != want {
		t.Errorf("lost+found moved from inode %s to %s", want, got)
	}
}

// A cancelled context stops the sync at the next path, with the context's
// error, and SyncImage then writes nothing.
func TestCancel(t *testing.T) {
	t.Parallel()
	src := genSource(t, 31, smallTree(4096))
	base := ext4test.BuildImage(t, src, configs[0].img)
	if err := os.WriteFile(filepath.Join(src, "new"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{PhaseRead, PhaseInodes, PhaseDigest, PhasePlace, PhaseContent, PhaseDirs, PhaseSave} {
		t.Run(phase, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := filepath.Join(t.TempDir(), "out.ext4")
			o := Options{Progress: func(p string, done, total int64) {
				if p == phase {
					cancel()
				}
			}}
			_, err := SyncImage(ctx, base, readTree(t, src), out, o)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			if _, serr := os.Stat(out); !os.IsNotExist(serr) {
				t.Errorf("output written after cancel: %v", serr)
			}
		})
	}
}
