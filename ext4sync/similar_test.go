package ext4sync

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// A file of a renamed directory that also changed (a kernel-modules
// directory renamed on a version bump), and a library renamed with its
// version and changed, reuse the old files' inodes and blocks: only the
// differing block of each is written, not the whole files.
func TestSimilarFilesDeltaInPlace(t *testing.T) {
	t.Parallel()
	src := genSource(t, 51, smallTree(4096))
	rng := rand.New(rand.NewPCG(51, 52))
	put := func(rel string, b []byte) {
		p := filepath.Join(src, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(255) + 1)
		}
		return b
	}
	const blocks = 64
	mod, lib := random(blocks*4096), random(blocks*4096+100)
	put("lib/modules/6.1.0-21/kernel/fs/ext4.ko", mod)
	put("usr/lib/libfoo.so.1.2.3", lib)
	base := ext4test.BuildImage(t, src, configs[0].img)
	oldMod := blocksOf(t, base, "lib/modules/6.1.0-21/kernel/fs/ext4.ko")
	oldLib := blocksOf(t, base, "usr/lib/libfoo.so.1.2.3")

	if err := os.RemoveAll(filepath.Join(src, "lib/modules/6.1.0-21")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(src, "usr/lib/libfoo.so.1.2.3")); err != nil {
		t.Fatal(err)
	}
	mod[10*4096+5] ^= 0xff
	lib[20*4096+9] ^= 0xff
	lib = append(lib, 'x') // and a different size
	put("lib/modules/6.1.0-22/kernel/fs/ext4.ko", mod)
	put("usr/lib/libfoo.so.1.2.4", lib)

	dev, _ := syncOverlay(t, base, src)
	old := make(map[int64]bool)
	for _, b := range append(oldMod, oldLib...) {
		old[b] = true
	}
	rewritten := 0
	for _, b := range dev.ChangedBlocks() {
		if old[b] {
			rewritten++
		}
	}
	// One block of each, and the library's last block, which grew.
	if rewritten != 3 {
		t.Errorf("%d of the old files' data blocks rewritten, want the 3 that differ", rewritten)
	}
	out := filepath.Join(t.TempDir(), "out.ext4")
	if err := dev.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	ext4test.CheckImage(t, out, src)
	if got := blocksOf(t, out, "lib/modules/6.1.0-22/kernel/fs/ext4.ko"); !equalBlocks(got, oldMod) {
		t.Errorf("module moved: %v -> %v", oldMod, got)
	}
	if got := blocksOf(t, out, "usr/lib/libfoo.so.1.2.4"); !equalBlocks(got, oldLib) {
		t.Errorf("library moved: %v -> %v", oldLib, got)
	}
}

// A new file holding content a removed file held (moved under an
// unrelated name, with a new mtime, so nothing pairs the two) takes the
// removed file's freed blocks: no data block is written.
func TestSameContentTakesFreedBlocks(t *testing.T) {
	t.Parallel()
	src := genSource(t, 61, smallTree(4096))
	rng := rand.New(rand.NewPCG(61, 62))
	data := make([]byte, 20*4096)
	for i := range data {
		data[i] = byte(rng.IntN(255) + 1)
	}
	oldPath := filepath.Join(src, "opt/pkg-a/payload.bin")
	if err := os.MkdirAll(filepath.Dir(oldPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := ext4test.BuildImage(t, src, configs[0].img)
	oldBlocks := blocksOf(t, base, "opt/pkg-a/payload.bin")

	if err := os.RemoveAll(filepath.Join(src, "opt/pkg-a")); err != nil {
		t.Fatal(err)
	}
	// Half of it, then other bytes: only the first half is in the base.
	moved := append(append([]byte(nil), data[:10*4096]...), make([]byte, 10*4096)...)
	for i := 10 * 4096; i < len(moved); i++ {
		moved[i] = byte(rng.IntN(255) + 1)
	}
	newPath := filepath.Join(src, "srv/blob")
	if err := os.MkdirAll(filepath.Dir(newPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newPath, moved, 0o600); err != nil {
		t.Fatal(err)
	}
	dev, _ := syncOverlay(t, base, src)
	out := filepath.Join(t.TempDir(), "out.ext4")
	if err := dev.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	ext4test.CheckImage(t, out, src)
	got := blocksOf(t, out, "srv/blob")
	if !equalBlocks(got[:10], oldBlocks[:10]) {
		t.Errorf("moved content not reused: new blocks %v, old %v", got[:10], oldBlocks[:10])
	}
	changed := make(map[int64]bool)
	for _, b := range dev.ChangedBlocks() {
		changed[b] = true
	}
	for _, b := range got[:10] {
		if changed[b] {
			t.Errorf("reused block %d was written", b)
		}
	}
}
