package disk

// InodeFlags is i_flags.
type InodeFlags uint32

// Inode flags (i_flags, inode 0x20).
const (
	FlagSecrm       InodeFlags = 0x1
	FlagUnrm        InodeFlags = 0x2
	FlagCompr       InodeFlags = 0x4
	FlagSync        InodeFlags = 0x8
	FlagImmutable   InodeFlags = 0x10
	FlagAppend      InodeFlags = 0x20
	FlagNodump      InodeFlags = 0x40
	FlagNoatime     InodeFlags = 0x80
	FlagEncrypt     InodeFlags = 0x800
	FlagIndex       InodeFlags = 0x1000 // hashed directory (htree)
	FlagImagic      InodeFlags = 0x2000
	FlagJournalData InodeFlags = 0x4000
	FlagNotail      InodeFlags = 0x8000
	FlagDirsync     InodeFlags = 0x10000
	FlagTopdir      InodeFlags = 0x20000
	FlagHugeFile    InodeFlags = 0x40000 // i_blocks in file-system blocks
	FlagExtents     InodeFlags = 0x80000
	FlagVerity      InodeFlags = 0x100000
	FlagEAInode     InodeFlags = 0x200000
	FlagDAX         InodeFlags = 0x2000000
	FlagInlineData  InodeFlags = 0x10000000
	FlagProjinherit InodeFlags = 0x20000000
	FlagCasefold    InodeFlags = 0x40000000
)

// Has reports whether every bit of f is set.
func (fl InodeFlags) Has(f InodeFlags) bool { return fl&f == f }

// File type and permission bits of i_mode.
const (
	ModeTypeMask = 0xF000
	ModeFIFO     = 0x1000
	ModeChar     = 0x2000
	ModeDir      = 0x4000
	ModeBlock    = 0x6000
	ModeRegular  = 0x8000
	ModeSymlink  = 0xA000
	ModeSocket   = 0xC000
	ModePermMask = 0x0FFF // setuid, setgid, sticky, rwx
	ModeSetuid   = 0x800
	ModeSetgid   = 0x400
	ModeSticky   = 0x200
)

// Reserved inode numbers.
const (
	BadBlocksIno    = 1
	RootIno         = 2
	UsrQuotaIno     = 3
	GrpQuotaIno     = 4
	BootLoaderIno   = 5
	UndelDirIno     = 6
	ResizeIno       = 7
	JournalIno      = 8
	GoodOldFirstIno = 11
)
