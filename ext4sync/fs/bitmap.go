package fs

import (
	"bytes"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// bitmap is one group's block or inode bitmap block, cached.
type bitmap struct {
	b     []byte
	disk  []byte // the bytes on disk (nil for an uninit group's bitmap)
	dirty bool
}

// flushTo writes the bitmap to blk unless the disk already holds it.
func (m *bitmap) flushTo(f *FS, blk uint64) error {
	if m.disk != nil && bytes.Equal(m.b, m.disk) {
		m.dirty = false
		return nil
	}
	if err := f.WriteBlock(blk, m.b); err != nil {
		return err
	}
	m.disk = append(m.disk[:0], m.b...)
	m.dirty = false
	return nil
}

func (m *bitmap) test(i uint32) bool { return m.b[i/8]&(1<<(i%8)) != 0 }
func (m *bitmap) set(i uint32)       { m.b[i/8] |= 1 << (i % 8) }
func (m *bitmap) clear(i uint32)     { m.b[i/8] &^= 1 << (i % 8) }

// markEnd sets the padding bits from n to the end of the block, as the
// kernel and e2fsck expect for bits past the group's last block or inode.
func (m *bitmap) markEnd(n uint32) {
	for i := n; i < uint32(len(m.b))*8; i++ {
		m.set(i)
	}
}

// blockBitmap returns group g's block bitmap, reading it on first use and
// building it for a BLOCK_UNINIT group.
func (f *FS) blockBitmap(g uint32) (*bitmap, error) {
	if m := f.blockBm[g]; m != nil {
		return m, nil
	}
	gd := &f.gds[g]
	var m *bitmap
	if f.groupFlag(g, disk.BgBlockUninit) {
		m = f.initBlockBitmap(g)
	} else {
		b, err := f.ReadBlock(gd.BlockBitmap())
		if err != nil {
			return nil, err
		}
		if f.sb.HasMetadataCsum() {
			crc := disk.BlockBitmapChecksum(f.seed, b, f.sb.ClustersPerGroup)
			if !gd.BlockBitmapCsumMatches(f.descSize, crc) {
				return nil, corruptf("group %d block bitmap at block %d: checksum %#08x, computed %#08x",
					g, gd.BlockBitmap(), gd.BlockBitmapCsum(f.descSize), crc)
			}
		}
		m = &bitmap{b: b, disk: append([]byte(nil), b...)}
	}
	f.blockBm[g] = m
	return m, nil
}

// initBlockBitmap builds the bitmap of a BLOCK_UNINIT group: its share of
// the metadata (any group's) marked in use, the rest free, padding set.
func (f *FS) initBlockBitmap(g uint32) *bitmap {
	m := &bitmap{b: make([]byte, f.geo.BlockSize)}
	first := f.geo.GroupFirstBlock(g)
	end := first + uint64(f.geo.GroupBlocks(g))
	for _, sp := range f.meta {
		s, e := max(sp.start, first), min(sp.end, end)
		for b := s; b < e; b++ {
			m.set(uint32(b - first))
		}
	}
	m.markEnd(f.geo.GroupBlocks(g))
	return m
}

// inodeBitmap returns group g's inode bitmap, reading it on first use and
// building an empty one for an INODE_UNINIT group.
func (f *FS) inodeBitmap(g uint32) (*bitmap, error) {
	if m := f.inodeBm[g]; m != nil {
		return m, nil
	}
	gd := &f.gds[g]
	var m *bitmap
	if f.groupFlag(g, disk.BgInodeUninit) {
		m = &bitmap{b: make([]byte, f.geo.BlockSize)}
		m.markEnd(f.geo.InodesPerGroup)
	} else {
		b, err := f.ReadBlock(gd.InodeBitmap())
		if err != nil {
			return nil, err
		}
		if f.sb.HasMetadataCsum() {
			crc := disk.InodeBitmapChecksum(f.seed, b, f.geo.InodesPerGroup)
			if !gd.InodeBitmapCsumMatches(f.descSize, crc) {
				return nil, corruptf("group %d inode bitmap at block %d: checksum %#08x, computed %#08x",
					g, gd.InodeBitmap(), gd.InodeBitmapCsum(f.descSize), crc)
			}
		}
		m = &bitmap{b: b, disk: append([]byte(nil), b...)}
	}
	f.inodeBm[g] = m
	return m, nil
}

// BlockInUse reports whether blk is marked in use in its group's bitmap.
// Blocks before the first data block count as in use.
func (f *FS) BlockInUse(blk uint64) (bool, error) {
	g, i, ok := f.geo.GroupOfBlock(blk)
	if !ok {
		if blk < f.geo.FirstDataBlock {
			return true, nil
		}
		return false, invalidf("block %d: beyond the %d blocks of the filesystem", blk, f.geo.BlocksCount)
	}
	m, err := f.blockBitmap(g)
	if err != nil {
		return false, err
	}
	return m.test(i), nil
}

// InodeInUse reports whether inode ino is marked in use.
func (f *FS) InodeInUse(ino uint32) (bool, error) {
	if ino == 0 || ino > f.geo.InodesCount {
		return false, invalidf("inode %d: out of range 1..%d", ino, f.geo.InodesCount)
	}
	g, i := f.geo.GroupOfInode(ino)
	m, err := f.inodeBitmap(g)
	if err != nil {
		return false, err
	}
	return m.test(i), nil
}

// writeBitmaps writes every dirty bitmap and stores its checksum in the
// group's descriptor (marking the descriptor dirty).
func (f *FS) writeBitmaps() error {
	for g := uint32(0); g < f.geo.Groups; g++ {
		bm, im := f.blockBm[g], f.inodeBm[g]
		if (bm == nil || !bm.dirty) && (im == nil || !im.dirty) {
			continue
		}
		gd := &f.gds[g]
		if bm != nil && bm.dirty {
			if err := bm.flushTo(f, gd.BlockBitmap()); err != nil {
				return err
			}
		}
		if im != nil && im.dirty {
			if err := im.flushTo(f, gd.InodeBitmap()); err != nil {
				return err
			}
		}
		if f.sb.HasMetadataCsum() {
			bcrc, icrc := gd.BlockBitmapCsum(f.descSize), gd.InodeBitmapCsum(f.descSize)
			if bm != nil && !f.groupFlag(g, disk.BgBlockUninit) {
				bcrc = disk.BlockBitmapChecksum(f.seed, bm.b, f.sb.ClustersPerGroup)
			}
			if im != nil && !f.groupFlag(g, disk.BgInodeUninit) {
				icrc = disk.InodeBitmapChecksum(f.seed, im.b, f.geo.InodesPerGroup)
			}
			gd.SetBitmapChecksums(f.descSize, bcrc, icrc)
		}
		f.gdDirty[g] = true
	}
	return nil
}
