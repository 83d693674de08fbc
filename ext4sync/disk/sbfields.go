package disk

// Derived superblock values: 64-bit counts joined from their lo/hi halves
// and sizes decoded from their log fields.

// Block size limits ext4 allows (s_log_block_size 0..6).
const (
	MinBlockSize    = 1024
	maxLogBlockSize = 6
)

// BlockSize is 1024 << s_log_block_size; 0 when the field is out of range.
func (s *Superblock) BlockSize() uint32 {
	if s.LogBlockSize > maxLogBlockSize {
		return 0
	}
	return MinBlockSize << s.LogBlockSize
}

// Is64Bit reports whether the 64bit feature (hi halves, 64-byte
// descriptors) is on.
func (s *Superblock) Is64Bit() bool { return s.FeatureIncompat.Has(Incompat64Bit) }

// BlocksCount is s_blocks_count (hi half only with 64bit).
func (s *Superblock) BlocksCount() uint64 {
	if s.Is64Bit() {
		return uint64(s.BlocksCountHi)<<32 | uint64(s.BlocksCountLo)
	}
	return uint64(s.BlocksCountLo)
}

// FreeBlocksCount is s_free_blocks_count.
func (s *Superblock) FreeBlocksCount() uint64 {
	if s.Is64Bit() {
		return uint64(s.FreeBlocksCountHi)<<32 | uint64(s.FreeBlocksCountLo)
	}
	return uint64(s.FreeBlocksCountLo)
}

// SetFreeBlocksCount stores n in s_free_blocks_count (lo, and hi with 64bit).
func (s *Superblock) SetFreeBlocksCount(n uint64) {
	s.FreeBlocksCountLo = uint32(n)
	if s.Is64Bit() {
		s.FreeBlocksCountHi = uint32(n >> 32)
	}
}

// RBlocksCount is s_r_blocks_count, the blocks reserved for root.
func (s *Superblock) RBlocksCount() uint64 {
	if s.Is64Bit() {
		return uint64(s.RBlocksCountHi)<<32 | uint64(s.RBlocksCountLo)
	}
	return uint64(s.RBlocksCountLo)
}

// DescriptorSize is the on-disk size of one group descriptor: s_desc_size
// with 64bit, otherwise 32.
func (s *Superblock) DescriptorSize() int {
	if s.Is64Bit() {
		return int(s.DescSize)
	}
	return GroupDescSize32
}

// HasMetadataCsum reports whether metadata_csum is on.
func (s *Superblock) HasMetadataCsum() bool {
	return s.FeatureRoCompat.Has(RoCompatMetadataCsum)
}

// HasGroupDescCsum reports whether descriptors carry a checksum
// (metadata_csum or uninit_bg), which also enables the uninit flags.
func (s *Superblock) HasGroupDescCsum() bool {
	return s.HasMetadataCsum() || s.FeatureRoCompat.Has(RoCompatGdtCsum)
}

// CsumSeed is the seed of every metadata_csum checksum but the
// superblock's: s_checksum_seed with metadata_csum_seed, else from the UUID.
func (s *Superblock) CsumSeed() uint32 {
	if s.FeatureIncompat.Has(IncompatCsumSeed) {
		return s.ChecksumSeed
	}
	return FSSeed(s.UUID)
}

// ComputeChecksum is crc32c(~0) over the superblock bytes before s_checksum.
func (s *Superblock) ComputeChecksum() uint32 {
	var b [SuperblockSize]byte
	s.Marshal(b[:])
	return Crc32c(^uint32(0), b[:sbChecksumOff])
}

// SetChecksum recomputes s_checksum (only meaningful with metadata_csum).
func (s *Superblock) SetChecksum() { s.Checksum = s.ComputeChecksum() }

// VerifyChecksum reports whether s_checksum matches; it is true when
// metadata_csum is off, as the field is then unused.
func (s *Superblock) VerifyChecksum() bool {
	return !s.HasMetadataCsum() || s.Checksum == s.ComputeChecksum()
}
