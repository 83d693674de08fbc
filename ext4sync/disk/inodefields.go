package disk

// Accessors that join the split inode fields.

// sectorSize is the unit of i_blocks unless the inode has FlagHugeFile.
const sectorSize = 512

// FileType is i_mode & ModeTypeMask.
func (in *Inode) FileType() uint16 { return in.Mode & ModeTypeMask }

// IsDir reports whether the inode is a directory.
func (in *Inode) IsDir() bool { return in.FileType() == ModeDir }

// Size is i_size (lo | size_high << 32).
func (in *Inode) Size() uint64 { return uint64(in.SizeHigh)<<32 | uint64(in.SizeLo) }

// SetSize stores i_size.
func (in *Inode) SetSize(n uint64) { in.SizeLo, in.SizeHigh = uint32(n), uint32(n>>32) }

// UID is the 32-bit owner.
func (in *Inode) UID() uint32 { return uint32(in.UIDHigh)<<16 | uint32(in.UIDLo) }

// SetUID stores the 32-bit owner.
func (in *Inode) SetUID(id uint32) { in.UIDLo, in.UIDHigh = uint16(id), uint16(id>>16) }

// GID is the 32-bit group.
func (in *Inode) GID() uint32 { return uint32(in.GIDHigh)<<16 | uint32(in.GIDLo) }

// SetGID stores the 32-bit group.
func (in *Inode) SetGID(id uint32) { in.GIDLo, in.GIDHigh = uint16(id), uint16(id>>16) }

// FileACL is the block of the inode's external xattr block (48 bits).
func (in *Inode) FileACL() uint64 { return uint64(in.FileACLHigh)<<32 | uint64(in.FileACLLo) }

// SetFileACL stores the xattr block number.
func (in *Inode) SetFileACL(blk uint64) { in.FileACLLo, in.FileACLHigh = uint32(blk), uint16(blk>>32) }

// RawBlocks is i_blocks as stored (lo | blocks_high << 32), in the unit the
// flags and the huge_file feature select.
func (in *Inode) RawBlocks() uint64 { return uint64(in.BlocksHigh)<<32 | uint64(in.BlocksLo) }

// Sectors is the inode's i_blocks in 512-byte sectors; blockSize is used
// when the inode counts in file-system blocks (FlagHugeFile).
func (in *Inode) Sectors(blockSize uint32) uint64 {
	if in.Flags.Has(FlagHugeFile) {
		return in.RawBlocks() * uint64(blockSize/sectorSize)
	}
	return in.RawBlocks()
}

// SetSectors stores i_blocks as n 512-byte sectors and clears FlagHugeFile.
// The caller must ensure n fits (48 bits with huge_file, else 32).
func (in *Inode) SetSectors(n uint64) {
	in.Flags &^= FlagHugeFile
	in.BlocksLo, in.BlocksHigh = uint32(n), uint16(n>>32)
}
