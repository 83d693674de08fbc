package fs

import (
	"errors"
	"testing"
)

// fixedPlacement answers with whatever the test sets.
type fixedPlacement struct {
	ext []Extent
	ino uint32
}

func (p fixedPlacement) Blocks(SpaceView, BlockRequest) ([]Extent, error) { return p.ext, nil }
func (p fixedPlacement) Inode(InodeView, InodeRequest) (uint32, error)    { return p.ino, nil }

func TestPlacementAnswersAreChecked(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	f0, err := Open(loadDev(t, img), Options{})
	if err != nil {
		t.Fatal(err)
	}
	runStart, runLen, err := f0.nextFreeRun(0)
	if err != nil || runLen < 10 {
		t.Fatalf("free run %d+%d %v", runStart, runLen, err)
	}
	itable := f0.gds[0].InodeTable()
	for _, c := range []struct {
		name string
		p    fixedPlacement
		n    uint64
	}{
		{"metadata", fixedPlacement{ext: []Extent{{itable, 2}}}, 2},
		{"in-use", fixedPlacement{ext: []Extent{{runStart - 1, 2}}}, 2},
		{"short", fixedPlacement{ext: []Extent{{runStart, 1}}}, 2},
		{"overlap", fixedPlacement{ext: []Extent{{runStart, 2}, {runStart + 1, 1}}}, 3},
		{"outside", fixedPlacement{ext: []Extent{{f0.BlocksCount(), 1}}}, 1},
		{"empty-extent", fixedPlacement{ext: []Extent{{runStart, 0}, {runStart, 1}}}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Open(loadDev(t, img), Options{Placement: c.p})
			if err != nil {
				t.Fatal(err)
			}
			before := f.FreeBlocksCount()
			if _, err := f.AllocBlocks(BlockRequest{N: c.n}); !errors.Is(err, ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
			if f.FreeBlocksCount() != before {
				t.Fatal("a refused answer changed the free count")
			}
		})
	}
	for _, ino := range []uint32{1, 2, 11, f0.InodesCount() + 1} {
		f, err := Open(loadDev(t, img), Options{Placement: fixedPlacement{ino: ino}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.AllocInode(InodeRequest{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("inode %d: want ErrInvalid, got %v", ino, err)
		}
	}
}

func TestDefaultPlacementPrefersGoalAndContiguity(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	f, err := Open(loadDev(t, img), Options{})
	if err != nil {
		t.Fatal(err)
	}
	geo := f.Geometry()
	// A hole of 2 blocks at the goal, then a long run: 5 blocks must skip
	// the hole and land in one run; 2 blocks must fill the hole.
	ext, err := f.AllocBlocks(BlockRequest{N: 20, Goal: geo.GroupFirstBlock(2)})
	if err != nil || len(ext) != 1 {
		t.Fatalf("%v %v", ext, err)
	}
	s := ext[0].Start
	if err := f.FreeBlocks(s+3, 2); err != nil {
		t.Fatal(err)
	}
	got, err := f.AllocBlocks(BlockRequest{N: 5, Goal: s})
	if err != nil || len(got) != 1 || got[0].Start != s+20 {
		t.Fatalf("5 blocks from goal %d: %v %v", s, got, err)
	}
	got, err = f.AllocBlocks(BlockRequest{N: 2, Goal: s})
	if err != nil || len(got) != 1 || got[0].Start != s+3 {
		t.Fatalf("2 blocks from goal %d: %v %v", s, got, err)
	}
	// Deterministic: the same requests on a fresh FS give the same blocks.
	f2, err := Open(loadDev(t, img), Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := f2.AllocBlocks(BlockRequest{N: 20, Goal: geo.GroupFirstBlock(2)})
	if err != nil || again[0] != ext[0] {
		t.Fatalf("not deterministic: %v vs %v", again, ext)
	}
	// Inodes go to the parent's group.
	ino, err := f.AllocInode(InodeRequest{Parent: 2*geo.InodesPerGroup + 5})
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := geo.GroupOfInode(ino); g != 2 {
		t.Fatalf("inode %d not in the parent's group 2", ino)
	}
}

func TestMultiBlockIO(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "4096", "64M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := f.AllocBlocks(BlockRequest{N: 3})
	if err != nil || len(ext) != 1 {
		t.Fatalf("%v %v", ext, err)
	}
	data := make([]byte, 3*4096)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := f.WriteBlocks(ext[0].Start, data); err != nil {
		t.Fatal(err)
	}
	got, err := f.ReadBlocks(ext[0].Start, 3)
	if err != nil || string(got) != string(data) {
		t.Fatalf("read back: %v", err)
	}
	one, err := f.ReadBlock(ext[0].Start + 2)
	if err != nil || string(one) != string(data[2*4096:]) {
		t.Fatalf("ReadBlock: %v", err)
	}
	if err := f.WriteBlocks(ext[0].Start, data[:100]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("partial block: %v", err)
	}
	if _, err := f.ReadBlocks(f.BlocksCount()-1, 2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("past the end: %v", err)
	}
}

func TestAllocFreeRoundTripWritesNothing(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "4096", "64M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := f.AllocBlocks(BlockRequest{N: 7})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ext {
		if err := f.FreeBlocks(e.Start, e.Len); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if dev.writes != 0 {
		t.Fatalf("alloc+free of blocks wrote %d times", dev.writes)
	}
}
