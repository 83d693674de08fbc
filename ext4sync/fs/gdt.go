package fs

import (
	"bytes"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// readDescriptors reads the primary descriptor table, verifying each
// descriptor's checksum and the locations it points at.
func (f *FS) readDescriptors() error {
	bs := uint64(f.geo.BlockSize)
	f.gdtRaw = make([]byte, f.geo.GdtBlocks*bs)
	if err := f.readAt(f.gdtRaw, int64(f.geo.GdtStart()*bs)); err != nil {
		return wrapf(err, "group descriptor table at block %d", f.geo.GdtStart())
	}
	f.gds = make([]disk.GroupDesc, f.geo.Groups)
	f.gdDirty = make([]bool, f.geo.Groups)
	for g := uint32(0); g < f.geo.Groups; g++ {
		off := int(g) * f.descSize
		raw := f.gdtRaw[off : off+f.descSize]
		gd := &f.gds[g]
		if err := gd.Unmarshal(raw, f.descSize); err != nil {
			return corruptf("group %d descriptor: %s", g, detail(err))
		}
		where := f.geo.GdtStart() + uint64(off)/bs
		if f.sb.HasGroupDescCsum() {
			if want := disk.GroupDescChecksum(&f.sb, g, raw); want != gd.Checksum {
				return corruptf("group %d descriptor in block %d: checksum %#04x, computed %#04x", g, where, gd.Checksum, want)
			}
		}
		if err := f.checkDescriptor(g, where); err != nil {
			return err
		}
	}
	return nil
}

// checkDescriptor validates what a descriptor points at and counts.
func (f *FS) checkDescriptor(g uint32, where uint64) error {
	gd := &f.gds[g]
	n := f.geo.BlocksCount
	inFS := func(b uint64) bool { return b >= f.geo.FirstDataBlock && b < n }
	switch {
	case !inFS(gd.BlockBitmap()):
		return corruptf("group %d descriptor in block %d: block bitmap at %d outside the filesystem", g, where, gd.BlockBitmap())
	case !inFS(gd.InodeBitmap()):
		return corruptf("group %d descriptor in block %d: inode bitmap at %d outside the filesystem", g, where, gd.InodeBitmap())
	case !inFS(gd.InodeTable()) || gd.InodeTable()+f.geo.ItableBlocks > n:
		return corruptf("group %d descriptor in block %d: inode table at %d outside the filesystem", g, where, gd.InodeTable())
	case gd.FreeBlocksCount() > f.geo.GroupBlocks(g):
		return corruptf("group %d descriptor in block %d: %d free blocks in a group of %d", g, where, gd.FreeBlocksCount(), f.geo.GroupBlocks(g))
	case gd.FreeInodesCount() > f.geo.InodesPerGroup:
		return corruptf("group %d descriptor in block %d: %d free inodes in a group of %d", g, where, gd.FreeInodesCount(), f.geo.InodesPerGroup)
	case gd.UsedDirsCount() > f.geo.InodesPerGroup:
		return corruptf("group %d descriptor in block %d: %d directories in a group of %d inodes", g, where, gd.UsedDirsCount(), f.geo.InodesPerGroup)
	case f.sb.HasGroupDescCsum() && gd.ItableUnused() > f.geo.InodesPerGroup:
		return corruptf("group %d descriptor in block %d: %d unused inodes in a group of %d", g, where, gd.ItableUnused(), f.geo.InodesPerGroup)
	}
	return nil
}

// groupFlag reports whether an uninit flag is set and honoured (the flags
// mean nothing without descriptor checksums).
func (f *FS) groupFlag(g uint32, flag uint16) bool {
	return f.sb.HasGroupDescCsum() && f.gds[g].Flags&flag != 0
}

// writeDescriptors encodes the dirty descriptors with fresh checksums into
// the table and writes the table blocks whose bytes changed.
func (f *FS) writeDescriptors() error {
	bs := int(f.geo.BlockSize)
	changed := map[int]bool{}
	for g := uint32(0); g < f.geo.Groups; g++ {
		if !f.gdDirty[g] {
			continue
		}
		gd := &f.gds[g]
		gd.SetChecksum(&f.sb, g)
		off := int(g) * f.descSize
		var enc [disk.GroupDescSize64]byte
		if err := gd.Marshal(enc[:], f.descSize); err != nil {
			return err
		}
		if !bytes.Equal(enc[:f.descSize], f.gdtRaw[off:off+f.descSize]) {
			copy(f.gdtRaw[off:], enc[:f.descSize])
			changed[off/bs] = true
		}
		f.gdDirty[g] = false
	}
	for i := 0; i < int(f.geo.GdtBlocks); i++ {
		if !changed[i] {
			continue
		}
		if err := f.WriteBlock(f.geo.GdtStart()+uint64(i), f.gdtRaw[i*bs:(i+1)*bs]); err != nil {
			return err
		}
	}
	return nil
}
