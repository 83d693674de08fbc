package fs

import (
	"encoding/binary"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// view is the read-only window a Placement gets on the FS.
type view struct{ f *FS }

var (
	_ SpaceView = view{}
	_ InodeView = view{}
)

func (v view) Layout() *disk.Layout            { return v.f.layout }
func (v view) FreeBlocks() uint64              { return v.f.FreeBlocksCount() }
func (v view) FreeInodes() uint64              { return v.f.FreeInodesCount() }
func (v view) GroupFreeBlocks(g uint32) uint32 { return v.f.groupStat(g).FreeBlocks }
func (v view) GroupFreeInodes(g uint32) uint32 { return v.f.groupStat(g).FreeInodes }
func (v view) Freed() []uint32                 { return append([]uint32(nil), v.f.freed...) }

func (v view) BlockFree(blk uint64) (bool, error) {
	if blk < v.f.geo.FirstDataBlock || blk >= v.f.geo.BlocksCount || v.f.IsMetadata(blk) {
		return false, nil
	}
	used, err := v.f.BlockInUse(blk)
	return !used, err
}

func (v view) NextFreeRun(from uint64) (uint64, uint64, error) { return v.f.nextFreeRun(from) }

func (v view) InodeFree(ino uint32) (bool, error) {
	if ino < v.f.geo.FirstIno || ino > v.f.geo.InodesCount {
		return false, nil
	}
	used, err := v.f.InodeInUse(ino)
	return !used, err
}

func (v view) NextFreeInode(from uint32) (uint32, error) { return v.f.nextFreeInode(from) }

// nextClear returns the first clear bit in [i, n), or n.
func (m *bitmap) nextClear(i, n uint32) uint32 {
	for i < n {
		if i%64 == 0 && i+64 <= n && binary.LittleEndian.Uint64(m.b[i/8:]) == ^uint64(0) {
			i += 64
			continue
		}
		if i%8 == 0 && m.b[i/8] == 0xFF {
			i += 8
			continue
		}
		if !m.test(i) {
			return i
		}
		i++
	}
	return n
}

// nextSet returns the first set bit in [i, n), or n.
func (m *bitmap) nextSet(i, n uint32) uint32 {
	for i < n {
		if i%8 == 0 && m.b[i/8] == 0 {
			i += 8
			continue
		}
		if m.test(i) {
			return i
		}
		i++
	}
	return n
}

// nextFreeRun finds the first run of allocatable blocks at or after from.
func (f *FS) nextFreeRun(from uint64) (uint64, uint64, error) {
	geo := f.geo
	from = max(from, geo.FirstDataBlock)
	for from < geo.BlocksCount {
		g, i, _ := geo.GroupOfBlock(from)
		m, err := f.blockBitmap(g)
		if err != nil {
			return 0, 0, err
		}
		n := geo.GroupBlocks(g)
		j := m.nextClear(i, n)
		if j >= n {
			from = geo.GroupFirstBlock(g + 1)
			continue
		}
		start := geo.GroupFirstBlock(g) + uint64(j)
		if sp, ok := f.metaOverlap(start, start+1); ok {
			from = sp.end
			continue
		}
		end := start
		for end < geo.BlocksCount {
			g2, i2, _ := geo.GroupOfBlock(end)
			m2, err := f.blockBitmap(g2)
			if err != nil {
				return 0, 0, err
			}
			n2 := geo.GroupBlocks(g2)
			k := m2.nextSet(i2, n2)
			end = geo.GroupFirstBlock(g2) + uint64(k)
			if k < n2 {
				break
			}
		}
		if sp, ok := f.metaOverlap(start, end); ok {
			end = sp.start
		}
		return start, end - start, nil
	}
	return 0, 0, nil
}

// nextFreeInode finds the first allocatable inode at or after from.
func (f *FS) nextFreeInode(from uint32) (uint32, error) {
	geo := f.geo
	from = max(from, geo.FirstIno)
	for from != 0 && from <= geo.InodesCount {
		g, i := geo.GroupOfInode(from)
		if f.groupStat(g).FreeInodes == 0 {
			from = (g+1)*geo.InodesPerGroup + 1
			continue
		}
		m, err := f.inodeBitmap(g)
		if err != nil {
			return 0, err
		}
		if j := m.nextClear(i, geo.InodesPerGroup); j < geo.InodesPerGroup {
			return g*geo.InodesPerGroup + j + 1, nil
		}
		from = (g+1)*geo.InodesPerGroup + 1
	}
	return 0, nil
}
