package placement

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

func model(f *fakeFS, w int64) blockmap.Model {
	return blockmap.Model{WriteUnit: w, Chunk: 4 * kib, ImageSize: int64(f.geo.BlocksCount) * int64(f.geo.BlockSize)}
}

// unitsOf lists the distinct units of w bytes the extents touch.
func unitsOf(ext []fs.Extent, bs, w int64) map[int64]bool {
	m := map[int64]bool{}
	for _, e := range ext {
		for b := e.Start; b < e.Start+e.Len; b++ {
			m[int64(b)*bs/w] = true
		}
	}
	return m
}

func TestDirtyUnitsFirst(t *testing.T) {
	f := newFakeFS(1024, 2, 1024, 64)                     // 2 MiB, units of 4 blocks at W=4 KiB
	dev := &fakeDev{ranges: [][2]int64{{600 * kib, kib}}} // block 600 changed: unit 150
	p := New(model(f, 4*kib), dev)
	ext, err := f.alloc(p, fs.BlockRequest{N: 3, Goal: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := []fs.Extent{{Start: 600, Len: 3}}; !reflect.DeepEqual(ext, want) {
		t.Fatalf("got %v, want %v (the free blocks of the dirty unit)", ext, want)
	}
	// The unit has one free block left (603); the next request takes it
	// first, then opens one fresh unit (the default rule would open two).
	ext, err = f.alloc(p, fs.BlockRequest{N: 5, Goal: 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := []fs.Extent{{Start: 603, Len: 5}}; !reflect.DeepEqual(ext, want) {
		t.Fatalf("got %v, want %v: block 603, then the next unit", ext, want)
	}
}

func TestPendingAllocationsAreDirty(t *testing.T) {
	f := newFakeFS(1024, 2, 1024, 64)
	p := New(model(f, mib), nil)
	var units = map[int64]bool{}
	for i := 0; i < 50; i++ {
		ext, err := f.alloc(p, fs.BlockRequest{N: 7, Goal: uint64(37 * i % 2000)})
		if err != nil {
			t.Fatal(err)
		}
		for u := range unitsOf(ext, 1024, mib) {
			units[u] = true
		}
	}
	// 350 blocks fit one 1 MiB unit (1024 blocks minus metadata).
	if len(units) != 1 {
		t.Fatalf("50 small files dirtied %d units, want 1", len(units))
	}
	if got := p.DirtyUnits(); len(got) != 1 {
		t.Fatalf("policy counts %v dirty", got)
	}
}

func TestDenseRunOfFreeUnits(t *testing.T) {
	f := newFakeFS(1024, 4, 1024, 64) // 4 MiB; W = 16 KiB: 16 blocks a unit
	// Fill everything, then free half of each unit in [0, 2048) and the
	// whole units 200..203 and 210..213.
	f.setUsed(0, f.geo.BlocksCount, true)
	for b := uint64(0); b < 2048; b += 16 {
		f.setUsed(b, 8, false)
	}
	f.setUsed(3200, 64, false)
	f.setUsed(3360, 64, false)
	g := newFakeFS(1024, 4, 1024, 64)
	copy(g.used, f.used)
	p := New(model(f, 16*kib), nil)
	ext, err := f.alloc(p, fs.BlockRequest{N: 60, Goal: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []fs.Extent{{Start: 3200, Len: 60}}; !reflect.DeepEqual(ext, want) {
		t.Fatalf("got %v, want one dense run %v", ext, want)
	}
	// 100 blocks: no run holds them; the policy takes the 4 free blocks
	// of the dirty unit 203, the 4 whole units left, then 4 half-free
	// units; the default scatters them over 13 half-free units from the
	// goal on.
	ext, err = f.alloc(p, fs.BlockRequest{N: 100, Goal: 1})
	if err != nil {
		t.Fatal(err)
	}
	def, err := g.alloc(fs.DefaultPlacement{}, fs.BlockRequest{N: 100, Goal: 1})
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := unitsOf(ext, 1024, 16*kib), unitsOf(def, 1024, 16*kib)
	delete(mine, 203)
	if len(mine) != 8 || len(theirs) != 13 {
		t.Fatalf("policy dirtied %d new units (%v), default %d (%v); want 8 and 13", len(mine), ext, len(theirs), def)
	}
}

func TestFullestUnitsWhenNoRun(t *testing.T) {
	f := newFakeFS(1024, 1, 1024, 64) // W = 8 KiB: 8 blocks a unit
	f.setUsed(0, f.geo.BlocksCount, true)
	f.setUsed(100*8, 2, false)   // unit 100: 2 free
	f.setUsed(110*8+1, 7, false) // unit 110: 7 free
	f.setUsed(120*8, 5, false)   // unit 120: 5 free
	f.setUsed(121*8+3, 1, false) // unit 121: 1 free
	p := New(model(f, 8*kib), nil)
	ext, err := f.alloc(p, fs.BlockRequest{N: 12, Goal: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := unitsOf(ext, 1024, 8*kib); !reflect.DeepEqual(got, map[int64]bool{110: true, 120: true}) {
		t.Fatalf("got units %v (%v), want the two fullest, 110 and 120", got, ext)
	}
}

func TestFreedBlocksAreSeen(t *testing.T) {
	f := newFakeFS(1024, 2, 1024, 64)
	f.setUsed(0, f.geo.BlocksCount, true)
	f.setUsed(1500, 10, false)
	p := New(model(f, 4*kib), nil)
	if _, err := f.alloc(p, fs.BlockRequest{N: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.alloc(p, fs.BlockRequest{N: 1}); !errors.Is(err, fs.ErrNoSpace) {
		t.Fatalf("full: got %v, want ErrNoSpace", err)
	}
	f.setUsed(1800, 8, false) // the sync freed a file
	ext, err := f.alloc(p, fs.BlockRequest{N: 8})
	if err != nil || !reflect.DeepEqual(ext, []fs.Extent{{Start: 1800, Len: 8}}) {
		t.Fatalf("after a free: %v %v", ext, err)
	}
}

// With W = C = block size the policy must answer like the default rule.
func TestBlockSizedUnitsMatchDefault(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 20; trial++ {
		a := newFakeFS(4096, 2, 2048, 64)
		for b := uint64(0); b < a.geo.BlocksCount; b++ {
			a.used[b] = rng.Intn(3) == 0
		}
		b := newFakeFS(4096, 2, 2048, 64)
		copy(b.used, a.used)
		a.withGroups()
		p := New(model(a, 4*kib), nil)
		for i := 0; i < 30; i++ {
			req := fs.BlockRequest{N: uint64(1 + rng.Intn(40)), Goal: uint64(rng.Intn(4096))}
			got, err1 := a.alloc(p, req)
			want, err2 := b.alloc(fs.DefaultPlacement{}, req)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d request %d %+v: policy %v, default %v", trial, i, req, got, want)
			}
		}
	}
}

func TestInodeInDirtyTable(t *testing.T) {
	f := newFakeFS(1024, 2, 1024, 64) // 256-byte inodes: 4 a block; tables at 3 and 1027
	// Inode 70 (group 1, index 5: table block 1027+1) changed on the device.
	dev := &fakeDev{ranges: [][2]int64{{1028 * kib, kib}}}
	f.withGroups()
	p := New(model(f, 4*kib), dev)
	// W = 4 KiB is 4 blocks: the dirty unit is blocks 1028..1031, table
	// indexes 4..19 of group 1, inodes 69..84.
	ino, err := p.Inode(f, fs.InodeRequest{Parent: 2})
	if err != nil || ino != 69 {
		t.Fatalf("got inode %d %v, want 69 (first free in the dirty table unit)", ino, err)
	}
	f.iused[ino-1] = true
	// A freed inode in a dirty unit wins; one in a clean unit does not.
	f.iused[80-1], f.iused[30-1] = false, false
	f.freed = []uint32{30, 80}
	ino, err = p.Inode(f, fs.InodeRequest{Parent: 2})
	if err != nil || ino != 80 {
		t.Fatalf("got %d %v, want freed inode 80 in the dirty unit", ino, err)
	}
	// Without a layout: the default rule (lowest freed).
	q := New(model(f, 4*kib), dev)
	if ino, err := q.Inode(noGroups{f}, fs.InodeRequest{Parent: 2}); err != nil || ino != 30 {
		t.Fatalf("no layout: got %d %v, want 30", ino, err)
	}
}

func TestBadModelRefused(t *testing.T) {
	f := newFakeFS(1024, 1, 1024, 64)
	p := New(blockmap.Model{WriteUnit: 0, Chunk: 4 * kib}, nil)
	if _, err := p.Blocks(f, fs.BlockRequest{N: 1}); err == nil {
		t.Fatal("a zero write unit was accepted")
	}
	if _, err := p.Inode(f, fs.InodeRequest{}); err == nil {
		t.Fatal("a zero write unit was accepted")
	}
	bad := newFakeFS(1024, 1, 1024, 64)
	bad.geo.InodeSize = 0
	if _, err := New(model(bad, 4*kib), nil).Inode(bad, fs.InodeRequest{}); err == nil {
		t.Fatal("a geometry with 0-byte inodes was accepted")
	}
	small := blockmap.Model{WriteUnit: mib, Chunk: 4 * kib, ImageSize: 4096}
	if _, err := New(small, nil).Blocks(f, fs.BlockRequest{N: 1}); err == nil {
		t.Fatal("a model smaller than the filesystem was accepted")
	}
}

// Between answers that open as many clean units, small units prefer the
// default rule's (fewer extents, data next to its goal).
func TestTieGoesToDefaultForSmallUnits(t *testing.T) {
	f := newFakeFS(1024, 1, 1024, 64)
	f.setUsed(0, f.geo.BlocksCount, true)
	f.setUsed(102, 8, false) // unit 25 half free, 26 full, 27 half free
	p := New(model(f, 4*kib), nil)
	ext, err := f.alloc(p, fs.BlockRequest{N: 2, Goal: 102})
	if err != nil || !reflect.DeepEqual(ext, []fs.Extent{{Start: 102, Len: 2}}) {
		t.Fatalf("got %v %v, want the goal's blocks", ext, err)
	}
	// Big units (W = 16 KiB, 16 blocks): the same tie goes to the answer
	// that leaves more room in the unit it opens, the wholly free unit 40.
	g := newFakeFS(1024, 1, 1024, 64)
	g.setUsed(0, g.geo.BlocksCount, true)
	g.setUsed(102, 8, false)
	g.setUsed(640, 16, false)
	q := New(model(g, 16*kib), nil)
	ext, err = g.alloc(q, fs.BlockRequest{N: 2, Goal: 102})
	if err != nil || !reflect.DeepEqual(ext, []fs.Extent{{Start: 640, Len: 2}}) {
		t.Fatalf("big units: got %v %v, want the free unit's first blocks", ext, err)
	}
}

func TestAttach(t *testing.T) {
	f := newFakeFS(1024, 2, 1024, 64)
	f.withGroups()
	p := New(model(f, 4*kib), nil)
	if err := p.Attach(&fakeDev{ranges: [][2]int64{{600 * kib, kib}}}); err != nil {
		t.Fatal(err)
	}
	ext, err := f.alloc(p, fs.BlockRequest{N: 3, Goal: 100})
	if err != nil || !reflect.DeepEqual(ext, []fs.Extent{{Start: 600, Len: 3}}) {
		t.Fatalf("attached device ignored: %v %v", ext, err)
	}
	if err := p.Attach(&fakeDev{}); err == nil {
		t.Fatal("attach after allocating was accepted")
	}
}
