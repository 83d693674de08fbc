package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// fakeFS is an in-memory SpaceView and InodeView: a geometry, a block
// bitmap with some blocks marked metadata, and an inode bitmap. Its
// layout names no group's metadata until withGroups.
type fakeFS struct {
	geo   disk.Geometry
	used  []bool // by block
	meta  []bool // by block
	iused []bool // by inode-1
	freed []uint32
	group []disk.GroupMeta
}

// withGroups makes the view's layout put group g's bitmaps and table at
// fixed offsets in it (its descriptor is in block 1).
func (f *fakeFS) withGroups() *fakeFS {
	f.group = make([]disk.GroupMeta, f.geo.Groups)
	for g := range f.group {
		first := f.geo.GroupFirstBlock(uint32(g))
		f.group[g] = disk.GroupMeta{BlockBitmap: first + 1, InodeBitmap: first + 2, InodeTable: first + 3}
	}
	return f
}

// noGroups is a view of f whose layout names no group's metadata.
type noGroups struct{ *fakeFS }

func (v noGroups) Layout() *disk.Layout { return &disk.Layout{Geometry: v.geo} }

// newFakeFS makes groups of bpg blocks of bs bytes, block 0 and each
// group's first 3+itable blocks metadata, everything else free.
func newFakeFS(bs uint32, groups, bpg, ipg uint32) *fakeFS {
	geo := disk.Geometry{
		BlockSize: bs, BlocksCount: uint64(groups) * uint64(bpg), BlocksPerGroup: bpg,
		InodesPerGroup: ipg, InodesCount: groups * ipg, InodeSize: 256, FirstIno: 11,
		Groups: groups, GdtBlocks: 1, FlexGroups: 1,
	}
	geo.ItableBlocks = uint64(ipg) * 256 / uint64(bs)
	f := &fakeFS{geo: geo, used: make([]bool, geo.BlocksCount), meta: make([]bool, geo.BlocksCount),
		iused: make([]bool, geo.InodesCount)}
	for g := uint32(0); g < groups; g++ {
		first := geo.GroupFirstBlock(g)
		for b := first; b < first+3+geo.ItableBlocks; b++ {
			f.meta[b] = true
		}
	}
	for i := uint32(0); i < geo.FirstIno-1; i++ {
		f.iused[i] = true
	}
	return f
}

func (f *fakeFS) Layout() *disk.Layout { return &disk.Layout{Geometry: f.geo, Group: f.group} }

func (f *fakeFS) BlockFree(b uint64) (bool, error) {
	return b < f.geo.BlocksCount && !f.used[b] && !f.meta[b], nil
}

func (f *fakeFS) NextFreeRun(from uint64) (uint64, uint64, error) {
	for s := from; s < f.geo.BlocksCount; s++ {
		if ok, _ := f.BlockFree(s); ok {
			e := s
			for e < f.geo.BlocksCount {
				if ok, _ := f.BlockFree(e); !ok {
					break
				}
				e++
			}
			return s, e - s, nil
		}
	}
	return 0, 0, nil
}

func (f *fakeFS) FreeBlocks() uint64 {
	n := uint64(0)
	for g := uint32(0); g < f.geo.Groups; g++ {
		n += uint64(f.GroupFreeBlocks(g))
	}
	return n
}

func (f *fakeFS) GroupFreeBlocks(g uint32) uint32 {
	n := uint32(0)
	first := f.geo.GroupFirstBlock(g)
	for b := first; b < first+uint64(f.geo.GroupBlocks(g)); b++ {
		if ok, _ := f.BlockFree(b); ok {
			n++
		}
	}
	return n
}

func (f *fakeFS) InodeFree(ino uint32) (bool, error) {
	return ino >= f.geo.FirstIno && ino <= f.geo.InodesCount && !f.iused[ino-1], nil
}

func (f *fakeFS) NextFreeInode(from uint32) (uint32, error) {
	for ino := max(from, f.geo.FirstIno); ino <= f.geo.InodesCount; ino++ {
		if !f.iused[ino-1] {
			return ino, nil
		}
	}
	return 0, nil
}

func (f *fakeFS) Freed() []uint32 { return append([]uint32(nil), f.freed...) }

func (f *fakeFS) FreeInodes() uint64 {
	n := uint64(0)
	for _, u := range f.iused {
		if !u {
			n++
		}
	}
	return n
}

func (f *fakeFS) GroupFreeInodes(g uint32) uint32 {
	n := uint32(0)
	for i := g * f.geo.InodesPerGroup; i < (g+1)*f.geo.InodesPerGroup; i++ {
		if !f.iused[i] {
			n++
		}
	}
	return n
}

// setUsed marks blocks [s, s+n) used (true) or free.
func (f *fakeFS) setUsed(s, n uint64, used bool) {
	for b := s; b < s+n; b++ {
		f.used[b] = used
	}
}

// alloc asks p for req and applies the answer like the FS does.
func (f *fakeFS) alloc(p fs.Placement, req fs.BlockRequest) ([]fs.Extent, error) {
	ext, err := p.Blocks(f, req)
	if err != nil {
		return nil, err
	}
	for _, e := range ext {
		for b := e.Start; b < e.Start+e.Len; b++ {
			if ok, _ := f.BlockFree(b); !ok {
				return nil, fmt.Errorf("placement chose block %d, which is not free", b)
			}
			f.used[b] = true
		}
	}
	return ext, nil
}

// fakeDev is a device (fs.ChangedRanges) with chosen changed byte ranges.
type fakeDev struct{ ranges [][2]int64 }

func (d *fakeDev) Changed(fn func(off, n int64)) {
	for _, r := range d.ranges {
		fn(r[0], r[1])
	}
}
