package disk

import "fmt"

// Group descriptor sizes.
const (
	GroupDescSize32 = 32 // without 64bit
	GroupDescSize64 = 64 // EXT4_MIN_DESC_SIZE_64BIT
	gdChecksumOff   = 0x1E
	gdHiOff         = 0x20 // first byte of the 64bit half
)

// Block group flags (bg_flags).
const (
	BgInodeUninit  = 0x1 // inode table and bitmap not initialised
	BgBlockUninit  = 0x2 // block bitmap not initialised
	BgItableZeroed = 0x4 // inode table zeroed
)

// GroupDesc is struct ext4_group_desc. With a 32-byte descriptor the hi
// fields are zero and not written.
type GroupDesc struct {
	BlockBitmapLo     uint32 // 0x00
	InodeBitmapLo     uint32 // 0x04
	InodeTableLo      uint32 // 0x08
	FreeBlocksCountLo uint16 // 0x0C
	FreeInodesCountLo uint16 // 0x0E
	UsedDirsCountLo   uint16 // 0x10
	Flags             uint16 // 0x12
	ExcludeBitmapLo   uint32 // 0x14
	BlockBitmapCsumLo uint16 // 0x18
	InodeBitmapCsumLo uint16 // 0x1A
	ItableUnusedLo    uint16 // 0x1C
	Checksum          uint16 // 0x1E
	BlockBitmapHi     uint32 // 0x20
	InodeBitmapHi     uint32 // 0x24
	InodeTableHi      uint32 // 0x28
	FreeBlocksCountHi uint16 // 0x2C
	FreeInodesCountHi uint16 // 0x2E
	UsedDirsCountHi   uint16 // 0x30
	ItableUnusedHi    uint16 // 0x32
	ExcludeBitmapHi   uint32 // 0x34
	BlockBitmapCsumHi uint16 // 0x38
	InodeBitmapCsumHi uint16 // 0x3A
	Reserved          uint32 // 0x3C
}

func checkDescSize(size int) error {
	if size != GroupDescSize32 && size != GroupDescSize64 {
		return fmt.Errorf("ext4: group descriptor: unsupported size %d", size)
	}
	return nil
}

// Unmarshal decodes a descriptor of size bytes (32 or 64) from b.
func (g *GroupDesc) Unmarshal(b []byte, size int) error {
	if err := checkDescSize(size); err != nil {
		return err
	}
	if len(b) < size {
		return fmt.Errorf("ext4: group descriptor: need %d bytes, have %d", size, len(b))
	}
	*g = GroupDesc{
		BlockBitmapLo:     le.Uint32(b[0x00:]),
		InodeBitmapLo:     le.Uint32(b[0x04:]),
		InodeTableLo:      le.Uint32(b[0x08:]),
		FreeBlocksCountLo: le.Uint16(b[0x0C:]),
		FreeInodesCountLo: le.Uint16(b[0x0E:]),
		UsedDirsCountLo:   le.Uint16(b[0x10:]),
		Flags:             le.Uint16(b[0x12:]),
		ExcludeBitmapLo:   le.Uint32(b[0x14:]),
		BlockBitmapCsumLo: le.Uint16(b[0x18:]),
		InodeBitmapCsumLo: le.Uint16(b[0x1A:]),
		ItableUnusedLo:    le.Uint16(b[0x1C:]),
		Checksum:          le.Uint16(b[0x1E:]),
	}
	if size >= GroupDescSize64 {
		g.BlockBitmapHi = le.Uint32(b[0x20:])
		g.InodeBitmapHi = le.Uint32(b[0x24:])
		g.InodeTableHi = le.Uint32(b[0x28:])
		g.FreeBlocksCountHi = le.Uint16(b[0x2C:])
		g.FreeInodesCountHi = le.Uint16(b[0x2E:])
		g.UsedDirsCountHi = le.Uint16(b[0x30:])
		g.ItableUnusedHi = le.Uint16(b[0x32:])
		g.ExcludeBitmapHi = le.Uint32(b[0x34:])
		g.BlockBitmapCsumHi = le.Uint16(b[0x38:])
		g.InodeBitmapCsumHi = le.Uint16(b[0x3A:])
		g.Reserved = le.Uint32(b[0x3C:])
	}
	return nil
}

// Marshal encodes the descriptor into the first size bytes of b.
func (g *GroupDesc) Marshal(b []byte, size int) error {
	if err := checkDescSize(size); err != nil {
		return err
	}
	if len(b) < size {
		return fmt.Errorf("ext4: group descriptor: need %d bytes, have %d", size, len(b))
	}
	le.PutUint32(b[0x00:], g.BlockBitmapLo)
	le.PutUint32(b[0x04:], g.InodeBitmapLo)
	le.PutUint32(b[0x08:], g.InodeTableLo)
	le.PutUint16(b[0x0C:], g.FreeBlocksCountLo)
	le.PutUint16(b[0x0E:], g.FreeInodesCountLo)
	le.PutUint16(b[0x10:], g.UsedDirsCountLo)
	le.PutUint16(b[0x12:], g.Flags)
	le.PutUint32(b[0x14:], g.ExcludeBitmapLo)
	le.PutUint16(b[0x18:], g.BlockBitmapCsumLo)
	le.PutUint16(b[0x1A:], g.InodeBitmapCsumLo)
	le.PutUint16(b[0x1C:], g.ItableUnusedLo)
	le.PutUint16(b[0x1E:], g.Checksum)
	if size >= GroupDescSize64 {
		le.PutUint32(b[0x20:], g.BlockBitmapHi)
		le.PutUint32(b[0x24:], g.InodeBitmapHi)
		le.PutUint32(b[0x28:], g.InodeTableHi)
		le.PutUint16(b[0x2C:], g.FreeBlocksCountHi)
		le.PutUint16(b[0x2E:], g.FreeInodesCountHi)
		le.PutUint16(b[0x30:], g.UsedDirsCountHi)
		le.PutUint16(b[0x32:], g.ItableUnusedHi)
		le.PutUint32(b[0x34:], g.ExcludeBitmapHi)
		le.PutUint16(b[0x38:], g.BlockBitmapCsumHi)
		le.PutUint16(b[0x3A:], g.InodeBitmapCsumHi)
		le.PutUint32(b[0x3C:], g.Reserved)
	}
	return nil
}

func join32(lo uint32, hi uint32) uint64 { return uint64(hi)<<32 | uint64(lo) }
func join16(lo uint16, hi uint16) uint32 { return uint32(hi)<<16 | uint32(lo) }

// BlockBitmap is the block number of the group's block bitmap.
func (g *GroupDesc) BlockBitmap() uint64 { return join32(g.BlockBitmapLo, g.BlockBitmapHi) }

// InodeBitmap is the block number of the group's inode bitmap.
func (g *GroupDesc) InodeBitmap() uint64 { return join32(g.InodeBitmapLo, g.InodeBitmapHi) }

// InodeTable is the first block of the group's inode table.
func (g *GroupDesc) InodeTable() uint64 { return join32(g.InodeTableLo, g.InodeTableHi) }

// FreeBlocksCount is bg_free_blocks_count.
func (g *GroupDesc) FreeBlocksCount() uint32 {
	return join16(g.FreeBlocksCountLo, g.FreeBlocksCountHi)
}

// FreeInodesCount is bg_free_inodes_count.
func (g *GroupDesc) FreeInodesCount() uint32 {
	return join16(g.FreeInodesCountLo, g.FreeInodesCountHi)
}

// UsedDirsCount is bg_used_dirs_count.
func (g *GroupDesc) UsedDirsCount() uint32 { return join16(g.UsedDirsCountLo, g.UsedDirsCountHi) }

// ItableUnused is bg_itable_unused: inodes at the end of the table never used.
func (g *GroupDesc) ItableUnused() uint32 { return join16(g.ItableUnusedLo, g.ItableUnusedHi) }

// SetFreeBlocksCount stores n (the hi half is ignored by 32-byte descriptors).
func (g *GroupDesc) SetFreeBlocksCount(n uint32) {
	g.FreeBlocksCountLo, g.FreeBlocksCountHi = uint16(n), uint16(n>>16)
}

// SetFreeInodesCount stores n.
func (g *GroupDesc) SetFreeInodesCount(n uint32) {
	g.FreeInodesCountLo, g.FreeInodesCountHi = uint16(n), uint16(n>>16)
}

// SetUsedDirsCount stores n.
func (g *GroupDesc) SetUsedDirsCount(n uint32) {
	g.UsedDirsCountLo, g.UsedDirsCountHi = uint16(n), uint16(n>>16)
}

// SetItableUnused stores n.
func (g *GroupDesc) SetItableUnused(n uint32) {
	g.ItableUnusedLo, g.ItableUnusedHi = uint16(n), uint16(n>>16)
}
