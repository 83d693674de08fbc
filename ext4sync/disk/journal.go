package disk

import (
	"encoding/binary"
	"fmt"
)

// The jbd2 journal superblock (struct journal_superblock_s), stored
// big-endian in the first 1024 bytes of the journal's block 0.
const (
	JournalMagic          = 0xC03B3998
	JournalSuperblockSize = 1024
	// Block types (h_blocktype).
	JournalDescriptorBlock = 1
	JournalCommitBlock     = 2
	JournalSuperblockV1    = 3
	JournalSuperblockV2    = 4
	JournalRevokeBlock     = 5
	// Feature bits.
	JournalCompatChecksum    = 0x1
	JournalIncompatRevoke    = 0x1
	JournalIncompat64Bit     = 0x2
	JournalIncompatAsync     = 0x4
	JournalIncompatCsumV2    = 0x8
	JournalIncompatCsumV3    = 0x10
	JournalIncompatFastCommt = 0x20
	JournalKnownIncompat     = JournalIncompatRevoke | JournalIncompat64Bit | JournalIncompatAsync |
		JournalIncompatCsumV2 | JournalIncompatCsumV3 | JournalIncompatFastCommt
	// JournalCsumCrc32c is s_checksum_type for crc32c.
	JournalCsumCrc32c = 4
	// JournalMinBlocks is JBD2_MIN_JOURNAL_BLOCKS.
	JournalMinBlocks = 1024
	// JournalDefaultFCBlocks is the fast-commit area when s_num_fc_blks is 0.
	JournalDefaultFCBlocks = 256
	jsbChecksumOff         = 0xFC
)

// JournalSuperblock holds the fields of the journal superblock a checker
// needs, each at its offset.
type JournalSuperblock struct {
	Magic        uint32 // 0x00 h_magic
	BlockType    uint32 // 0x04 h_blocktype
	BlockSize    uint32 // 0x0C s_blocksize
	MaxLen       uint32 // 0x10 s_maxlen
	First        uint32 // 0x14 s_first
	Sequence     uint32 // 0x18 s_sequence
	Start        uint32 // 0x1C s_start: first log block, 0 when the log is empty
	Errno        int32  // 0x20 s_errno
	Compat       uint32 // 0x24 s_feature_compat
	Incompat     uint32 // 0x28 s_feature_incompat
	RoCompat     uint32 // 0x2C s_feature_ro_compat
	NrUsers      uint32 // 0x40 s_nr_users
	ChecksumType uint8  // 0x50 s_checksum_type
	NumFCBlocks  uint32 // 0x54 s_num_fc_blks
	Checksum     uint32 // 0xFC s_checksum
}

// Unmarshal decodes a journal superblock from the first 1024 bytes of b.
func (j *JournalSuperblock) Unmarshal(b []byte) error {
	if len(b) < JournalSuperblockSize {
		return fmt.Errorf("ext4: journal superblock: need %d bytes, have %d", JournalSuperblockSize, len(b))
	}
	be := binary.BigEndian
	*j = JournalSuperblock{
		Magic: be.Uint32(b[0x00:]), BlockType: be.Uint32(b[0x04:]),
		BlockSize: be.Uint32(b[0x0C:]), MaxLen: be.Uint32(b[0x10:]), First: be.Uint32(b[0x14:]),
		Sequence: be.Uint32(b[0x18:]), Start: be.Uint32(b[0x1C:]), Errno: int32(be.Uint32(b[0x20:])),
		Compat: be.Uint32(b[0x24:]), Incompat: be.Uint32(b[0x28:]), RoCompat: be.Uint32(b[0x2C:]),
		NrUsers: be.Uint32(b[0x40:]), ChecksumType: b[0x50], NumFCBlocks: be.Uint32(b[0x54:]),
		Checksum: be.Uint32(b[jsbChecksumOff:]),
	}
	return nil
}

// HasCsumV2or3 reports whether the journal carries v2 or v3 checksums.
func (j *JournalSuperblock) HasCsumV2or3() bool {
	return j.Incompat&(JournalIncompatCsumV2|JournalIncompatCsumV3) != 0
}

// JournalSuperblockChecksum is crc32c(~0) over the 1024-byte journal
// superblock b with s_checksum taken as zero.
func JournalSuperblockChecksum(b []byte) uint32 {
	crc := Crc32c(^uint32(0), b[:jsbChecksumOff])
	crc = Crc32c(crc, []byte{0, 0, 0, 0})
	return Crc32c(crc, b[jsbChecksumOff+4:JournalSuperblockSize])
}
