package placement

import (
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

func TestRewriteChoice(t *testing.T) {
	f := newFakeFS(1024, 4, 1024, 64) // W = 16 KiB: 16 blocks a unit
	p := New(model(f, 16*kib), nil)
	// A 64-block file whose changes hit 10 scattered units: rewriting it
	// densely opens 4.
	var scattered []uint64
	for u := uint64(100); u < 110; u++ {
		scattered = append(scattered, u*16+3)
	}
	for _, c := range []struct {
		name string
		c    FileChange
		want Rewrite
	}{
		{"scattered", FileChange{Ino: 20, Differs: scattered, Blocks: 64}, Relocate},
		{"two blocks", FileChange{Ino: 20, Differs: scattered[:2], Blocks: 64}, InPlace},
		{"tie", FileChange{Ino: 20, Differs: scattered[:4], Blocks: 64}, InPlace},
		{"grows", FileChange{Ino: 20, Differs: scattered[:3], Grow: 40, Blocks: 64}, Relocate},
	} {
		got, err := p.Rewrite(f, c.c)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
	// Block-sized units: a dense rewrite never beats the differing blocks.
	g := newFakeFS(4096, 1, 4096, 64)
	q := New(model(g, 4*kib), nil)
	if got, _ := q.Rewrite(g, FileChange{Ino: 20, Differs: []uint64{500, 900, 1300}, Blocks: 3}); got != InPlace {
		t.Errorf("W = block: %v, want in place", got)
	}
	// Dirty room makes relocation free.
	if _, err := f.alloc(p, fs.BlockRequest{N: 1, Goal: 3000}); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Rewrite(f, FileChange{Ino: 20, Differs: scattered[:1], Blocks: 15}); got != Relocate {
		t.Errorf("fits the dirty unit's room: %v, want relocate", got)
	}
	if _, err := p.Rewrite(f, FileChange{Ino: 20, Differs: []uint64{f.geo.BlocksCount}}); err == nil {
		t.Error("a block past the end was accepted")
	}
}
