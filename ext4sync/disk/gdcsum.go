package disk

import "encoding/binary"

// Group descriptor and bitmap checksums.

// GroupDescChecksum computes bg_checksum for the descriptor of group as it
// is encoded in raw (size bytes). With metadata_csum it is the low 16 bits
// of crc32c(seed, le32 group || descriptor with bg_checksum zeroed); with
// only uninit_bg it is crc16(~0, uuid || le32 group || descriptor without
// bg_checksum). Without either feature it is 0.
func GroupDescChecksum(sb *Superblock, group uint32, raw []byte) uint16 {
	size := sb.DescriptorSize()
	if len(raw) < size {
		return 0
	}
	var g [4]byte
	binary.LittleEndian.PutUint32(g[:], group)
	switch {
	case sb.HasMetadataCsum():
		crc := Crc32c(sb.CsumSeed(), g[:])
		crc = Crc32c(crc, raw[:gdChecksumOff])
		crc = Crc32c(crc, []byte{0, 0})
		crc = Crc32c(crc, raw[gdChecksumOff+2:size])
		return uint16(crc)
	case sb.FeatureRoCompat.Has(RoCompatGdtCsum):
		crc := Crc16(^uint16(0), sb.UUID[:])
		crc = Crc16(crc, g[:])
		crc = Crc16(crc, raw[:gdChecksumOff])
		if size > gdHiOff {
			crc = Crc16(crc, raw[gdHiOff:size])
		}
		return crc
	}
	return 0
}

// ComputeChecksum computes bg_checksum for g as group of sb's filesystem.
func (g *GroupDesc) ComputeChecksum(sb *Superblock, group uint32) uint16 {
	var raw [GroupDescSize64]byte
	if err := g.Marshal(raw[:], sb.DescriptorSize()); err != nil {
		return 0
	}
	return GroupDescChecksum(sb, group, raw[:])
}

// SetChecksum recomputes bg_checksum.
func (g *GroupDesc) SetChecksum(sb *Superblock, group uint32) {
	g.Checksum = g.ComputeChecksum(sb, group)
}

// BlockBitmapChecksum is crc32c(seed) over the bytes of a block bitmap that
// cover one group's clusters (clustersPerGroup / 8).
func BlockBitmapChecksum(seed uint32, bitmap []byte, clustersPerGroup uint32) uint32 {
	n := int(clustersPerGroup / 8)
	if n > len(bitmap) {
		n = len(bitmap)
	}
	return Crc32c(seed, bitmap[:n])
}

// InodeBitmapChecksum is crc32c(seed) over the bytes of an inode bitmap
// that cover one group's inodes (inodesPerGroup / 8).
func InodeBitmapChecksum(seed uint32, bitmap []byte, inodesPerGroup uint32) uint32 {
	n := int(inodesPerGroup / 8)
	if n > len(bitmap) {
		n = len(bitmap)
	}
	return Crc32c(seed, bitmap[:n])
}

// Descriptor offsets after which the bitmap checksums' hi halves exist.
const (
	bgBlockBitmapCsumHiEnd = 0x3A
	bgInodeBitmapCsumHiEnd = 0x3C
)

// SetBitmapChecksums stores block and inode bitmap checksums in g, the hi
// halves only when the descriptor is large enough to hold them.
func (g *GroupDesc) SetBitmapChecksums(descSize int, blockCsum, inodeCsum uint32) {
	g.BlockBitmapCsumLo = uint16(blockCsum)
	g.InodeBitmapCsumLo = uint16(inodeCsum)
	if descSize >= bgBlockBitmapCsumHiEnd {
		g.BlockBitmapCsumHi = uint16(blockCsum >> 16)
	}
	if descSize >= bgInodeBitmapCsumHiEnd {
		g.InodeBitmapCsumHi = uint16(inodeCsum >> 16)
	}
}

// BlockBitmapCsum is the stored block bitmap checksum (hi half when present).
func (g *GroupDesc) BlockBitmapCsum(descSize int) uint32 {
	if descSize >= bgBlockBitmapCsumHiEnd {
		return join16(g.BlockBitmapCsumLo, g.BlockBitmapCsumHi)
	}
	return uint32(g.BlockBitmapCsumLo)
}

// InodeBitmapCsum is the stored inode bitmap checksum (hi half when present).
func (g *GroupDesc) InodeBitmapCsum(descSize int) uint32 {
	if descSize >= bgInodeBitmapCsumHiEnd {
		return join16(g.InodeBitmapCsumLo, g.InodeBitmapCsumHi)
	}
	return uint32(g.InodeBitmapCsumLo)
}

// csumMask is the part of a bitmap checksum a descriptor of descSize keeps.
func csumMask(descSize, hiEnd int) uint32 {
	if descSize >= hiEnd {
		return ^uint32(0)
	}
	return 0xFFFF
}

// BlockBitmapCsumMatches reports whether crc (a full BlockBitmapChecksum)
// matches what the descriptor stores.
func (g *GroupDesc) BlockBitmapCsumMatches(descSize int, crc uint32) bool {
	return g.BlockBitmapCsum(descSize) == crc&csumMask(descSize, bgBlockBitmapCsumHiEnd)
}

// InodeBitmapCsumMatches reports whether crc (a full InodeBitmapChecksum)
// matches what the descriptor stores.
func (g *GroupDesc) InodeBitmapCsumMatches(descSize int, crc uint32) bool {
	return g.InodeBitmapCsum(descSize) == crc&csumMask(descSize, bgInodeBitmapCsumHiEnd)
}
