package disk

import "fmt"

// Inode geometry.
const (
	GoodOldInodeSize = 128 // the base inode every inode size starts with
	InodeBlockLen    = 60  // bytes of i_block
	inodeChecksumLo  = 0x7C
	inodeChecksumHi  = 0x82
	// csumHiExtraEnd is the i_extra_isize that covers i_checksum_hi.
	csumHiExtraEnd = inodeChecksumHi + 2 - GoodOldInodeSize
	inodeExtraEnd  = 0xA0 // end of the extra fields this package decodes
)

// Inode is struct ext4_inode: the 128-byte base and the extra fields that
// i_extra_isize covers. Tail holds the bytes after 128 + i_extra_isize up to
// the inode size (the in-inode xattr area), so Marshal reproduces the input.
type Inode struct {
	Mode        uint16              // 0x00
	UIDLo       uint16              // 0x02
	SizeLo      uint32              // 0x04
	Atime       uint32              // 0x08
	Ctime       uint32              // 0x0C
	Mtime       uint32              // 0x10
	Dtime       uint32              // 0x14
	GIDLo       uint16              // 0x18
	LinksCount  uint16              // 0x1A
	BlocksLo    uint32              // 0x1C
	Flags       InodeFlags          // 0x20
	Version     uint32              // 0x24 (osd1: l_i_version)
	Block       [InodeBlockLen]byte // 0x28
	Generation  uint32              // 0x64
	FileACLLo   uint32              // 0x68
	SizeHigh    uint32              // 0x6C
	ObsoFaddr   uint32              // 0x70
	BlocksHigh  uint16              // 0x74 (osd2)
	FileACLHigh uint16              // 0x76
	UIDHigh     uint16              // 0x78
	GIDHigh     uint16              // 0x7A
	ChecksumLo  uint16              // 0x7C
	Reserved    uint16              // 0x7E
	ExtraIsize  uint16              // 0x80
	ChecksumHi  uint16              // 0x82
	CtimeExtra  uint32              // 0x84
	MtimeExtra  uint32              // 0x88
	AtimeExtra  uint32              // 0x8C
	Crtime      uint32              // 0x90
	CrtimeExtra uint32              // 0x94
	VersionHi   uint32              // 0x98
	Projid      uint32              // 0x9C
	// ExtraPad is kept verbatim when i_extra_isize reaches past 0xA0
	// (fields this package does not know): bytes 0xA0 .. 128+ExtraIsize.
	ExtraPad []byte
	Tail     []byte // 128 + ExtraIsize .. inode size
}

// extraField is one field after the base inode, with its offset and size.
type extraField struct {
	off, size int
	p16       func(*Inode) *uint16
	p32       func(*Inode) *uint32
}

var extraFields = []extraField{
	{off: 0x82, size: 2, p16: func(i *Inode) *uint16 { return &i.ChecksumHi }},
	{off: 0x84, size: 4, p32: func(i *Inode) *uint32 { return &i.CtimeExtra }},
	{off: 0x88, size: 4, p32: func(i *Inode) *uint32 { return &i.MtimeExtra }},
	{off: 0x8C, size: 4, p32: func(i *Inode) *uint32 { return &i.AtimeExtra }},
	{off: 0x90, size: 4, p32: func(i *Inode) *uint32 { return &i.Crtime }},
	{off: 0x94, size: 4, p32: func(i *Inode) *uint32 { return &i.CrtimeExtra }},
	{off: 0x98, size: 4, p32: func(i *Inode) *uint32 { return &i.VersionHi }},
	{off: 0x9C, size: 4, p32: func(i *Inode) *uint32 { return &i.Projid }},
}

// Unmarshal decodes an inode of len(b) bytes (the filesystem's inode size).
// Extra fields are decoded only when i_extra_isize covers them.
func (in *Inode) Unmarshal(b []byte) error {
	if len(b) < GoodOldInodeSize {
		return fmt.Errorf("ext4: inode: need %d bytes, have %d", GoodOldInodeSize, len(b))
	}
	*in = Inode{
		Mode:        le.Uint16(b[0x00:]),
		UIDLo:       le.Uint16(b[0x02:]),
		SizeLo:      le.Uint32(b[0x04:]),
		Atime:       le.Uint32(b[0x08:]),
		Ctime:       le.Uint32(b[0x0C:]),
		Mtime:       le.Uint32(b[0x10:]),
		Dtime:       le.Uint32(b[0x14:]),
		GIDLo:       le.Uint16(b[0x18:]),
		LinksCount:  le.Uint16(b[0x1A:]),
		BlocksLo:    le.Uint32(b[0x1C:]),
		Flags:       InodeFlags(le.Uint32(b[0x20:])),
		Version:     le.Uint32(b[0x24:]),
		Generation:  le.Uint32(b[0x64:]),
		FileACLLo:   le.Uint32(b[0x68:]),
		SizeHigh:    le.Uint32(b[0x6C:]),
		ObsoFaddr:   le.Uint32(b[0x70:]),
		BlocksHigh:  le.Uint16(b[0x74:]),
		FileACLHigh: le.Uint16(b[0x76:]),
		UIDHigh:     le.Uint16(b[0x78:]),
		GIDHigh:     le.Uint16(b[0x7A:]),
		ChecksumLo:  le.Uint16(b[0x7C:]),
		Reserved:    le.Uint16(b[0x7E:]),
	}
	copy(in.Block[:], b[0x28:0x28+InodeBlockLen])
	if len(b) == GoodOldInodeSize {
		return nil
	}
	if len(b) < GoodOldInodeSize+2 {
		return fmt.Errorf("ext4: inode: size %d cannot hold i_extra_isize", len(b))
	}
	in.ExtraIsize = le.Uint16(b[0x80:])
	end := GoodOldInodeSize + int(in.ExtraIsize)
	if end > len(b) || in.ExtraIsize%4 != 0 {
		return fmt.Errorf("ext4: inode: i_extra_isize %d invalid for inode size %d", in.ExtraIsize, len(b))
	}
	for _, f := range extraFields {
		if f.off+f.size > end {
			break
		}
		if f.p16 != nil {
			*f.p16(in) = le.Uint16(b[f.off:])
		} else {
			*f.p32(in) = le.Uint32(b[f.off:])
		}
	}
	if end > inodeExtraEnd {
		in.ExtraPad = append([]byte(nil), b[inodeExtraEnd:end]...)
	}
	in.Tail = append([]byte(nil), b[end:]...)
	return nil
}

// Marshal encodes the inode into b, whose length is the inode size. Bytes
// the inode does not describe (extra fields beyond i_extra_isize when Tail
// is short) are zeroed.
func (in *Inode) Marshal(b []byte) error {
	if len(b) < GoodOldInodeSize {
		return fmt.Errorf("ext4: inode: need %d bytes, have %d", GoodOldInodeSize, len(b))
	}
	le.PutUint16(b[0x00:], in.Mode)
	le.PutUint16(b[0x02:], in.UIDLo)
	le.PutUint32(b[0x04:], in.SizeLo)
	le.PutUint32(b[0x08:], in.Atime)
	le.PutUint32(b[0x0C:], in.Ctime)
	le.PutUint32(b[0x10:], in.Mtime)
	le.PutUint32(b[0x14:], in.Dtime)
	le.PutUint16(b[0x18:], in.GIDLo)
	le.PutUint16(b[0x1A:], in.LinksCount)
	le.PutUint32(b[0x1C:], in.BlocksLo)
	le.PutUint32(b[0x20:], uint32(in.Flags))
	le.PutUint32(b[0x24:], in.Version)
	copy(b[0x28:], in.Block[:])
	le.PutUint32(b[0x64:], in.Generation)
	le.PutUint32(b[0x68:], in.FileACLLo)
	le.PutUint32(b[0x6C:], in.SizeHigh)
	le.PutUint32(b[0x70:], in.ObsoFaddr)
	le.PutUint16(b[0x74:], in.BlocksHigh)
	le.PutUint16(b[0x76:], in.FileACLHigh)
	le.PutUint16(b[0x78:], in.UIDHigh)
	le.PutUint16(b[0x7A:], in.GIDHigh)
	le.PutUint16(b[0x7C:], in.ChecksumLo)
	le.PutUint16(b[0x7E:], in.Reserved)
	if len(b) == GoodOldInodeSize {
		return nil
	}
	end := GoodOldInodeSize + int(in.ExtraIsize)
	if len(b) < GoodOldInodeSize+2 || end > len(b) || in.ExtraIsize%4 != 0 {
		return fmt.Errorf("ext4: inode: i_extra_isize %d invalid for inode size %d", in.ExtraIsize, len(b))
	}
	le.PutUint16(b[0x80:], in.ExtraIsize)
	for _, f := range extraFields {
		if f.off+f.size > end {
			break
		}
		if f.p16 != nil {
			le.PutUint16(b[f.off:], *f.p16(in))
		} else {
			le.PutUint32(b[f.off:], *f.p32(in))
		}
	}
	if end > inodeExtraEnd {
		n := copy(b[inodeExtraEnd:end], in.ExtraPad)
		clear(b[inodeExtraEnd+n : end])
	}
	n := copy(b[end:], in.Tail)
	clear(b[end+n:])
	return nil
}

// HasChecksumHi reports whether i_extra_isize covers i_checksum_hi.
func (in *Inode) HasChecksumHi() bool { return in.ExtraIsize >= csumHiExtraEnd }

// InodeChecksum computes the crc32c of an encoded inode raw (the full inode
// size) from seed (InodeSeed), with its checksum fields taken as zero.
func InodeChecksum(seed uint32, raw []byte) uint32 {
	if len(raw) < GoodOldInodeSize {
		return 0
	}
	zero := []byte{0, 0}
	crc := Crc32c(seed, raw[:inodeChecksumLo])
	crc = Crc32c(crc, zero)
	crc = Crc32c(crc, raw[inodeChecksumLo+2:GoodOldInodeSize])
	if len(raw) <= GoodOldInodeSize+2 {
		return Crc32c(crc, raw[GoodOldInodeSize:])
	}
	extra := int(le.Uint16(raw[0x80:]))
	crc = Crc32c(crc, raw[GoodOldInodeSize:inodeChecksumHi])
	if extra >= csumHiExtraEnd && len(raw) >= inodeChecksumHi+2 {
		crc = Crc32c(crc, zero)
		crc = Crc32c(crc, raw[inodeChecksumHi+2:])
	} else {
		crc = Crc32c(crc, raw[inodeChecksumHi:])
	}
	return crc
}

// SetChecksum encodes the inode into raw (the inode size) with a fresh
// checksum from seed: the low 16 bits in i_checksum_lo, the high 16 in
// i_checksum_hi when present.
func (in *Inode) SetChecksum(seed uint32, raw []byte) error {
	if err := in.Marshal(raw); err != nil {
		return err
	}
	crc := InodeChecksum(seed, raw)
	in.ChecksumLo = uint16(crc)
	if len(raw) > GoodOldInodeSize && in.HasChecksumHi() {
		in.ChecksumHi = uint16(crc >> 16)
	}
	return in.Marshal(raw)
}

// VerifyInodeChecksum reports whether the checksum stored in raw (an
// encoded inode of the full inode size) matches.
func VerifyInodeChecksum(seed uint32, raw []byte) bool {
	if len(raw) < GoodOldInodeSize {
		return false
	}
	crc := InodeChecksum(seed, raw)
	stored := uint32(le.Uint16(raw[inodeChecksumLo:]))
	if len(raw) >= inodeChecksumHi+2 && int(le.Uint16(raw[0x80:])) >= csumHiExtraEnd {
		stored |= uint32(le.Uint16(raw[inodeChecksumHi:])) << 16
		return stored == crc
	}
	return stored == crc&0xFFFF
}
