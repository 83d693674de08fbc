package disk

import (
	"encoding/binary"
	"fmt"
)

// Superblock geometry and magic numbers.
const (
	SuperblockOffset = 1024   // byte offset of the primary superblock
	SuperblockSize   = 1024   // bytes of struct ext4_super_block
	SuperMagic       = 0xEF53 // s_magic
	sbChecksumOff    = 0x3FC  // s_checksum
	sbReservedOff    = 0x284  // s_reserved[]
	sbReservedLen    = sbChecksumOff - sbReservedOff
)

// Superblock states (s_state).
const (
	StateValid  = 0x1 // cleanly unmounted
	StateError  = 0x2 // errors detected
	StateOrphan = 0x4 // orphans being recovered
)

// Superblock flags (s_flags).
const (
	FlagSignedHash   = 0x1
	FlagUnsignedHash = 0x2
	FlagTestFS       = 0x4
)

// Checksum types (s_checksum_type).
const ChecksumTypeCrc32c = 1

// Superblock is struct ext4_super_block, every field at its on-disk
// offset. Reserved is kept so that Marshal reproduces the input exactly.
type Superblock struct {
	InodesCount          uint32              // 0x00
	BlocksCountLo        uint32              // 0x04
	RBlocksCountLo       uint32              // 0x08
	FreeBlocksCountLo    uint32              // 0x0C
	FreeInodesCount      uint32              // 0x10
	FirstDataBlock       uint32              // 0x14
	LogBlockSize         uint32              // 0x18
	LogClusterSize       uint32              // 0x1C
	BlocksPerGroup       uint32              // 0x20
	ClustersPerGroup     uint32              // 0x24
	InodesPerGroup       uint32              // 0x28
	Mtime                uint32              // 0x2C
	Wtime                uint32              // 0x30
	MntCount             uint16              // 0x34
	MaxMntCount          uint16              // 0x36
	Magic                uint16              // 0x38
	State                uint16              // 0x3A
	Errors               uint16              // 0x3C
	MinorRevLevel        uint16              // 0x3E
	LastCheck            uint32              // 0x40
	CheckInterval        uint32              // 0x44
	CreatorOS            uint32              // 0x48
	RevLevel             uint32              // 0x4C
	DefResUID            uint16              // 0x50
	DefResGID            uint16              // 0x52
	FirstIno             uint32              // 0x54
	InodeSize            uint16              // 0x58
	BlockGroupNr         uint16              // 0x5A
	FeatureCompat        Compat              // 0x5C
	FeatureIncompat      Incompat            // 0x60
	FeatureRoCompat      RoCompat            // 0x64
	UUID                 [16]byte            // 0x68
	VolumeName           [16]byte            // 0x78
	LastMounted          [64]byte            // 0x88
	AlgorithmUsageBitmap uint32              // 0xC8
	PreallocBlocks       uint8               // 0xCC
	PreallocDirBlocks    uint8               // 0xCD
	ReservedGdtBlocks    uint16              // 0xCE
	JournalUUID          [16]byte            // 0xD0
	JournalInum          uint32              // 0xE0
	JournalDev           uint32              // 0xE4
	LastOrphan           uint32              // 0xE8
	HashSeed             [4]uint32           // 0xEC
	DefHashVersion       uint8               // 0xFC
	JnlBackupType        uint8               // 0xFD
	DescSize             uint16              // 0xFE
	DefaultMountOpts     uint32              // 0x100
	FirstMetaBg          uint32              // 0x104
	MkfsTime             uint32              // 0x108
	JnlBlocks            [17]uint32          // 0x10C
	BlocksCountHi        uint32              // 0x150
	RBlocksCountHi       uint32              // 0x154
	FreeBlocksCountHi    uint32              // 0x158
	MinExtraIsize        uint16              // 0x15C
	WantExtraIsize       uint16              // 0x15E
	Flags                uint32              // 0x160
	RaidStride           uint16              // 0x164
	MMPInterval          uint16              // 0x166
	MMPBlock             uint64              // 0x168
	RaidStripeWidth      uint32              // 0x170
	LogGroupsPerFlex     uint8               // 0x174
	ChecksumType         uint8               // 0x175
	EncryptionLevel      uint8               // 0x176
	ReservedPad          uint8               // 0x177
	KbytesWritten        uint64              // 0x178
	SnapshotInum         uint32              // 0x180
	SnapshotID           uint32              // 0x184
	SnapshotRBlocksCount uint64              // 0x188
	SnapshotList         uint32              // 0x190
	ErrorCount           uint32              // 0x194
	FirstErrorTime       uint32              // 0x198
	FirstErrorIno        uint32              // 0x19C
	FirstErrorBlock      uint64              // 0x1A0
	FirstErrorFunc       [32]byte            // 0x1A8
	FirstErrorLine       uint32              // 0x1C8
	LastErrorTime        uint32              // 0x1CC
	LastErrorIno         uint32              // 0x1D0
	LastErrorLine        uint32              // 0x1D4
	LastErrorBlock       uint64              // 0x1D8
	LastErrorFunc        [32]byte            // 0x1E0
	MountOpts            [64]byte            // 0x200
	UsrQuotaInum         uint32              // 0x240
	GrpQuotaInum         uint32              // 0x244
	OverheadClusters     uint32              // 0x248
	BackupBgs            [2]uint32           // 0x24C
	EncryptAlgos         [4]uint8            // 0x254
	EncryptPwSalt        [16]byte            // 0x258
	LpfIno               uint32              // 0x268
	PrjQuotaInum         uint32              // 0x26C
	ChecksumSeed         uint32              // 0x270
	WtimeHi              uint8               // 0x274
	MtimeHi              uint8               // 0x275
	MkfsTimeHi           uint8               // 0x276
	LastCheckHi          uint8               // 0x277
	FirstErrorTimeHi     uint8               // 0x278
	LastErrorTimeHi      uint8               // 0x279
	FirstErrorErrcode    uint8               // 0x27A
	LastErrorErrcode     uint8               // 0x27B
	Encoding             uint16              // 0x27C
	EncodingFlags        uint16              // 0x27E
	OrphanFileInum       uint32              // 0x280
	Reserved             [sbReservedLen]byte // 0x284
	Checksum             uint32              // 0x3FC
}

var le = binary.LittleEndian

// Unmarshal decodes a superblock from the first SuperblockSize bytes of b.
// It checks only that b is long enough; validation is the caller's.
func (s *Superblock) Unmarshal(b []byte) error {
	if len(b) < SuperblockSize {
		return fmt.Errorf("ext4: superblock: need %d bytes, have %d", SuperblockSize, len(b))
	}
	s.InodesCount = le.Uint32(b[0x00:])
	s.BlocksCountLo = le.Uint32(b[0x04:])
	s.RBlocksCountLo = le.Uint32(b[0x08:])
	s.FreeBlocksCountLo = le.Uint32(b[0x0C:])
	s.FreeInodesCount = le.Uint32(b[0x10:])
	s.FirstDataBlock = le.Uint32(b[0x14:])
	s.LogBlockSize = le.Uint32(b[0x18:])
	s.LogClusterSize = le.Uint32(b[0x1C:])
	s.BlocksPerGroup = le.Uint32(b[0x20:])
	s.ClustersPerGroup = le.Uint32(b[0x24:])
	s.InodesPerGroup = le.Uint32(b[0x28:])
	s.Mtime = le.Uint32(b[0x2C:])
	s.Wtime = le.Uint32(b[0x30:])
	s.MntCount = le.Uint16(b[0x34:])
	s.MaxMntCount = le.Uint16(b[0x36:])
	s.Magic = le.Uint16(b[0x38:])
	s.State = le.Uint16(b[0x3A:])
	s.Errors = le.Uint16(b[0x3C:])
	s.MinorRevLevel = le.Uint16(b[0x3E:])
	s.LastCheck = le.Uint32(b[0x40:])
	s.CheckInterval = le.Uint32(b[0x44:])
	s.CreatorOS = le.Uint32(b[0x48:])
	s.RevLevel = le.Uint32(b[0x4C:])
	s.DefResUID = le.Uint16(b[0x50:])
	s.DefResGID = le.Uint16(b[0x52:])
	s.FirstIno = le.Uint32(b[0x54:])
	s.InodeSize = le.Uint16(b[0x58:])
	s.BlockGroupNr = le.Uint16(b[0x5A:])
	s.FeatureCompat = Compat(le.Uint32(b[0x5C:]))
	s.FeatureIncompat = Incompat(le.Uint32(b[0x60:]))
	s.FeatureRoCompat = RoCompat(le.Uint32(b[0x64:]))
	copy(s.UUID[:], b[0x68:])
	copy(s.VolumeName[:], b[0x78:])
	copy(s.LastMounted[:], b[0x88:])
	s.AlgorithmUsageBitmap = le.Uint32(b[0xC8:])
	s.PreallocBlocks = b[0xCC]
	s.PreallocDirBlocks = b[0xCD]
	s.ReservedGdtBlocks = le.Uint16(b[0xCE:])
	copy(s.JournalUUID[:], b[0xD0:])
	s.JournalInum = le.Uint32(b[0xE0:])
	s.JournalDev = le.Uint32(b[0xE4:])
	s.LastOrphan = le.Uint32(b[0xE8:])
	for i := range s.HashSeed {
		s.HashSeed[i] = le.Uint32(b[0xEC+4*i:])
	}
	s.DefHashVersion = b[0xFC]
	s.JnlBackupType = b[0xFD]
	s.DescSize = le.Uint16(b[0xFE:])
	s.DefaultMountOpts = le.Uint32(b[0x100:])
	s.FirstMetaBg = le.Uint32(b[0x104:])
	s.MkfsTime = le.Uint32(b[0x108:])
	for i := range s.JnlBlocks {
		s.JnlBlocks[i] = le.Uint32(b[0x10C+4*i:])
	}
	s.BlocksCountHi = le.Uint32(b[0x150:])
	s.RBlocksCountHi = le.Uint32(b[0x154:])
	s.FreeBlocksCountHi = le.Uint32(b[0x158:])
	s.MinExtraIsize = le.Uint16(b[0x15C:])
	s.WantExtraIsize = le.Uint16(b[0x15E:])
	s.Flags = le.Uint32(b[0x160:])
	s.RaidStride = le.Uint16(b[0x164:])
	s.MMPInterval = le.Uint16(b[0x166:])
	s.MMPBlock = le.Uint64(b[0x168:])
	s.RaidStripeWidth = le.Uint32(b[0x170:])
	s.LogGroupsPerFlex = b[0x174]
	s.ChecksumType = b[0x175]
	s.EncryptionLevel = b[0x176]
	s.ReservedPad = b[0x177]
	s.KbytesWritten = le.Uint64(b[0x178:])
	s.SnapshotInum = le.Uint32(b[0x180:])
	s.SnapshotID = le.Uint32(b[0x184:])
	s.SnapshotRBlocksCount = le.Uint64(b[0x188:])
	s.SnapshotList = le.Uint32(b[0x190:])
	s.ErrorCount = le.Uint32(b[0x194:])
	s.FirstErrorTime = le.Uint32(b[0x198:])
	s.FirstErrorIno = le.Uint32(b[0x19C:])
	s.FirstErrorBlock = le.Uint64(b[0x1A0:])
	copy(s.FirstErrorFunc[:], b[0x1A8:])
	s.FirstErrorLine = le.Uint32(b[0x1C8:])
	s.LastErrorTime = le.Uint32(b[0x1CC:])
	s.LastErrorIno = le.Uint32(b[0x1D0:])
	s.LastErrorLine = le.Uint32(b[0x1D4:])
	s.LastErrorBlock = le.Uint64(b[0x1D8:])
	copy(s.LastErrorFunc[:], b[0x1E0:])
	copy(s.MountOpts[:], b[0x200:])
	s.UsrQuotaInum = le.Uint32(b[0x240:])
	s.GrpQuotaInum = le.Uint32(b[0x244:])
	s.OverheadClusters = le.Uint32(b[0x248:])
	s.BackupBgs[0] = le.Uint32(b[0x24C:])
	s.BackupBgs[1] = le.Uint32(b[0x250:])
	copy(s.EncryptAlgos[:], b[0x254:])
	copy(s.EncryptPwSalt[:], b[0x258:])
	s.LpfIno = le.Uint32(b[0x268:])
	s.PrjQuotaInum = le.Uint32(b[0x26C:])
	s.ChecksumSeed = le.Uint32(b[0x270:])
	s.WtimeHi = b[0x274]
	s.MtimeHi = b[0x275]
	s.MkfsTimeHi = b[0x276]
	s.LastCheckHi = b[0x277]
	s.FirstErrorTimeHi = b[0x278]
	s.LastErrorTimeHi = b[0x279]
	s.FirstErrorErrcode = b[0x27A]
	s.LastErrorErrcode = b[0x27B]
	s.Encoding = le.Uint16(b[0x27C:])
	s.EncodingFlags = le.Uint16(b[0x27E:])
	s.OrphanFileInum = le.Uint32(b[0x280:])
	copy(s.Reserved[:], b[sbReservedOff:sbChecksumOff])
	s.Checksum = le.Uint32(b[sbChecksumOff:])
	return nil
}

// Marshal encodes the superblock into the first SuperblockSize bytes of b
// (which must be that long), exactly as Unmarshal read it. It does not
// update the checksum; call SetChecksum after changing fields.
func (s *Superblock) Marshal(b []byte) {
	_ = b[SuperblockSize-1]
	le.PutUint32(b[0x00:], s.InodesCount)
	le.PutUint32(b[0x04:], s.BlocksCountLo)
	le.PutUint32(b[0x08:], s.RBlocksCountLo)
	le.PutUint32(b[0x0C:], s.FreeBlocksCountLo)
	le.PutUint32(b[0x10:], s.FreeInodesCount)
	le.PutUint32(b[0x14:], s.FirstDataBlock)
	le.PutUint32(b[0x18:], s.LogBlockSize)
	le.PutUint32(b[0x1C:], s.LogClusterSize)
	le.PutUint32(b[0x20:], s.BlocksPerGroup)
	le.PutUint32(b[0x24:], s.ClustersPerGroup)
	le.PutUint32(b[0x28:], s.InodesPerGroup)
	le.PutUint32(b[0x2C:], s.Mtime)
	le.PutUint32(b[0x30:], s.Wtime)
	le.PutUint16(b[0x34:], s.MntCount)
	le.PutUint16(b[0x36:], s.MaxMntCount)
	le.PutUint16(b[0x38:], s.Magic)
	le.PutUint16(b[0x3A:], s.State)
	le.PutUint16(b[0x3C:], s.Errors)
	le.PutUint16(b[0x3E:], s.MinorRevLevel)
	le.PutUint32(b[0x40:], s.LastCheck)
	le.PutUint32(b[0x44:], s.CheckInterval)
	le.PutUint32(b[0x48:], s.CreatorOS)
	le.PutUint32(b[0x4C:], s.RevLevel)
	le.PutUint16(b[0x50:], s.DefResUID)
	le.PutUint16(b[0x52:], s.DefResGID)
	le.PutUint32(b[0x54:], s.FirstIno)
	le.PutUint16(b[0x58:], s.InodeSize)
	le.PutUint16(b[0x5A:], s.BlockGroupNr)
	le.PutUint32(b[0x5C:], uint32(s.FeatureCompat))
	le.PutUint32(b[0x60:], uint32(s.FeatureIncompat))
	le.PutUint32(b[0x64:], uint32(s.FeatureRoCompat))
	copy(b[0x68:], s.UUID[:])
	copy(b[0x78:], s.VolumeName[:])
	copy(b[0x88:], s.LastMounted[:])
	le.PutUint32(b[0xC8:], s.AlgorithmUsageBitmap)
	b[0xCC] = s.PreallocBlocks
	b[0xCD] = s.PreallocDirBlocks
	le.PutUint16(b[0xCE:], s.ReservedGdtBlocks)
	copy(b[0xD0:], s.JournalUUID[:])
	le.PutUint32(b[0xE0:], s.JournalInum)
	le.PutUint32(b[0xE4:], s.JournalDev)
	le.PutUint32(b[0xE8:], s.LastOrphan)
	for i := range s.HashSeed {
		le.PutUint32(b[0xEC+4*i:], s.HashSeed[i])
	}
	b[0xFC] = s.DefHashVersion
	b[0xFD] = s.JnlBackupType
	le.PutUint16(b[0xFE:], s.DescSize)
	le.PutUint32(b[0x100:], s.DefaultMountOpts)
	le.PutUint32(b[0x104:], s.FirstMetaBg)
	le.PutUint32(b[0x108:], s.MkfsTime)
	for i := range s.JnlBlocks {
		le.PutUint32(b[0x10C+4*i:], s.JnlBlocks[i])
	}
	le.PutUint32(b[0x150:], s.BlocksCountHi)
	le.PutUint32(b[0x154:], s.RBlocksCountHi)
	le.PutUint32(b[0x158:], s.FreeBlocksCountHi)
	le.PutUint16(b[0x15C:], s.MinExtraIsize)
	le.PutUint16(b[0x15E:], s.WantExtraIsize)
	le.PutUint32(b[0x160:], s.Flags)
	le.PutUint16(b[0x164:], s.RaidStride)
	le.PutUint16(b[0x166:], s.MMPInterval)
	le.PutUint64(b[0x168:], s.MMPBlock)
	le.PutUint32(b[0x170:], s.RaidStripeWidth)
	b[0x174] = s.LogGroupsPerFlex
	b[0x175] = s.ChecksumType
	b[0x176] = s.EncryptionLevel
	b[0x177] = s.ReservedPad
	le.PutUint64(b[0x178:], s.KbytesWritten)
	le.PutUint32(b[0x180:], s.SnapshotInum)
	le.PutUint32(b[0x184:], s.SnapshotID)
	le.PutUint64(b[0x188:], s.SnapshotRBlocksCount)
	le.PutUint32(b[0x190:], s.SnapshotList)
	le.PutUint32(b[0x194:], s.ErrorCount)
	le.PutUint32(b[0x198:], s.FirstErrorTime)
	le.PutUint32(b[0x19C:], s.FirstErrorIno)
	le.PutUint64(b[0x1A0:], s.FirstErrorBlock)
	copy(b[0x1A8:], s.FirstErrorFunc[:])
	le.PutUint32(b[0x1C8:], s.FirstErrorLine)
	le.PutUint32(b[0x1CC:], s.LastErrorTime)
	le.PutUint32(b[0x1D0:], s.LastErrorIno)
	le.PutUint32(b[0x1D4:], s.LastErrorLine)
	le.PutUint64(b[0x1D8:], s.LastErrorBlock)
	copy(b[0x1E0:], s.LastErrorFunc[:])
	copy(b[0x200:], s.MountOpts[:])
	le.PutUint32(b[0x240:], s.UsrQuotaInum)
	le.PutUint32(b[0x244:], s.GrpQuotaInum)
	le.PutUint32(b[0x248:], s.OverheadClusters)
	le.PutUint32(b[0x24C:], s.BackupBgs[0])
	le.PutUint32(b[0x250:], s.BackupBgs[1])
	copy(b[0x254:], s.EncryptAlgos[:])
	copy(b[0x258:], s.EncryptPwSalt[:])
	le.PutUint32(b[0x268:], s.LpfIno)
	le.PutUint32(b[0x26C:], s.PrjQuotaInum)
	le.PutUint32(b[0x270:], s.ChecksumSeed)
	b[0x274] = s.WtimeHi
	b[0x275] = s.MtimeHi
	b[0x276] = s.MkfsTimeHi
	b[0x277] = s.LastCheckHi
	b[0x278] = s.FirstErrorTimeHi
	b[0x279] = s.LastErrorTimeHi
	b[0x27A] = s.FirstErrorErrcode
	b[0x27B] = s.LastErrorErrcode
	le.PutUint16(b[0x27C:], s.Encoding)
	le.PutUint16(b[0x27E:], s.EncodingFlags)
	le.PutUint32(b[0x280:], s.OrphanFileInum)
	copy(b[sbReservedOff:sbChecksumOff], s.Reserved[:])
	le.PutUint32(b[sbChecksumOff:], s.Checksum)
}
