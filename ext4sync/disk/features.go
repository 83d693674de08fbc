package disk

import (
	"fmt"
	"strings"
)

// Compat is the set of s_feature_compat bits: features an implementation
// that does not know them may still read and write.
type Compat uint32

// Incompat is the set of s_feature_incompat bits: features an
// implementation must understand to read the filesystem at all.
type Incompat uint32

// RoCompat is the set of s_feature_ro_compat bits: features an
// implementation must understand to write the filesystem.
type RoCompat uint32

// Compatible features (s_feature_compat, superblock 0x5C).
const (
	CompatDirPrealloc   Compat = 0x1
	CompatImagicInodes  Compat = 0x2
	CompatHasJournal    Compat = 0x4
	CompatExtAttr       Compat = 0x8
	CompatResizeInode   Compat = 0x10
	CompatDirIndex      Compat = 0x20
	CompatLazyBG        Compat = 0x40
	CompatExcludeInode  Compat = 0x80
	CompatExcludeBitmap Compat = 0x100
	CompatSparseSuper2  Compat = 0x200
	CompatFastCommit    Compat = 0x400
	CompatStableInodes  Compat = 0x800
	CompatOrphanFile    Compat = 0x1000
)

// Incompatible features (s_feature_incompat, superblock 0x60).
const (
	IncompatCompression Incompat = 0x1
	IncompatFiletype    Incompat = 0x2
	IncompatRecover     Incompat = 0x4
	IncompatJournalDev  Incompat = 0x8
	IncompatMetaBG      Incompat = 0x10
	IncompatExtents     Incompat = 0x40
	Incompat64Bit       Incompat = 0x80
	IncompatMMP         Incompat = 0x100
	IncompatFlexBG      Incompat = 0x200
	IncompatEAInode     Incompat = 0x400
	IncompatDirData     Incompat = 0x1000
	IncompatCsumSeed    Incompat = 0x2000
	IncompatLargeDir    Incompat = 0x4000
	IncompatInlineData  Incompat = 0x8000
	IncompatEncrypt     Incompat = 0x10000
	IncompatCasefold    Incompat = 0x20000
)

// Read-only compatible features (s_feature_ro_compat, superblock 0x64).
const (
	RoCompatSparseSuper   RoCompat = 0x1
	RoCompatLargeFile     RoCompat = 0x2
	RoCompatBtreeDir      RoCompat = 0x4
	RoCompatHugeFile      RoCompat = 0x8
	RoCompatGdtCsum       RoCompat = 0x10
	RoCompatDirNlink      RoCompat = 0x20
	RoCompatExtraIsize    RoCompat = 0x40
	RoCompatHasSnapshot   RoCompat = 0x80
	RoCompatQuota         RoCompat = 0x100
	RoCompatBigalloc      RoCompat = 0x200
	RoCompatMetadataCsum  RoCompat = 0x400
	RoCompatReplica       RoCompat = 0x800
	RoCompatReadonly      RoCompat = 0x1000
	RoCompatProject       RoCompat = 0x2000
	RoCompatSharedBlocks  RoCompat = 0x4000
	RoCompatVerity        RoCompat = 0x8000
	RoCompatOrphanPresent RoCompat = 0x10000
)

// The names are those mke2fs -O and dumpe2fs use.
var compatNames = []struct {
	bit  Compat
	name string
}{
	{CompatDirPrealloc, "dir_prealloc"}, {CompatImagicInodes, "imagic_inodes"},
	{CompatHasJournal, "has_journal"}, {CompatExtAttr, "ext_attr"},
	{CompatResizeInode, "resize_inode"}, {CompatDirIndex, "dir_index"},
	{CompatLazyBG, "lazy_bg"}, {CompatExcludeInode, "snapshot_exclude_inode"},
	{CompatExcludeBitmap, "snapshot_exclude_bitmap"}, {CompatSparseSuper2, "sparse_super2"},
	{CompatFastCommit, "fast_commit"}, {CompatStableInodes, "stable_inodes"},
	{CompatOrphanFile, "orphan_file"},
}

var incompatNames = []struct {
	bit  Incompat
	name string
}{
	{IncompatCompression, "compression"}, {IncompatFiletype, "filetype"},
	{IncompatRecover, "needs_recovery"}, {IncompatJournalDev, "journal_dev"},
	{IncompatMetaBG, "meta_bg"}, {IncompatExtents, "extent"},
	{Incompat64Bit, "64bit"}, {IncompatMMP, "mmp"}, {IncompatFlexBG, "flex_bg"},
	{IncompatEAInode, "ea_inode"}, {IncompatDirData, "dirdata"},
	{IncompatCsumSeed, "metadata_csum_seed"}, {IncompatLargeDir, "large_dir"},
	{IncompatInlineData, "inline_data"}, {IncompatEncrypt, "encrypt"},
	{IncompatCasefold, "casefold"},
}

var roCompatNames = []struct {
	bit  RoCompat
	name string
}{
	{RoCompatSparseSuper, "sparse_super"}, {RoCompatLargeFile, "large_file"},
	{RoCompatBtreeDir, "btree_dir"}, {RoCompatHugeFile, "huge_file"},
	{RoCompatGdtCsum, "uninit_bg"}, {RoCompatDirNlink, "dir_nlink"},
	{RoCompatExtraIsize, "extra_isize"}, {RoCompatHasSnapshot, "snapshot"},
	{RoCompatQuota, "quota"}, {RoCompatBigalloc, "bigalloc"},
	{RoCompatMetadataCsum, "metadata_csum"}, {RoCompatReplica, "replica"},
	{RoCompatReadonly, "read-only"}, {RoCompatProject, "project"},
	{RoCompatSharedBlocks, "shared_blocks"}, {RoCompatVerity, "verity"},
	{RoCompatOrphanPresent, "orphan_present"},
}

// featureString names the set bits, lowest first; unknown bits appear as
// FEATURE_<kind><bit> the way e2fsprogs prints them.
func featureString(v uint32, kind string, names func(bit uint32) string) string {
	var parts []string
	for i := 0; i < 32; i++ {
		bit := uint32(1) << i
		if v&bit == 0 {
			continue
		}
		if n := names(bit); n != "" {
			parts = append(parts, n)
		} else {
			parts = append(parts, fmt.Sprintf("FEATURE_%s%d", kind, i))
		}
	}
	return strings.Join(parts, " ")
}

// Has reports whether every bit of f is set.
func (c Compat) Has(f Compat) bool { return c&f == f }

// Has reports whether every bit of f is set.
func (c Incompat) Has(f Incompat) bool { return c&f == f }

// Has reports whether every bit of f is set.
func (c RoCompat) Has(f RoCompat) bool { return c&f == f }

// String lists the set features by name, space-separated.
func (c Compat) String() string {
	return featureString(uint32(c), "C", func(b uint32) string {
		for _, n := range compatNames {
			if uint32(n.bit) == b {
				return n.name
			}
		}
		return ""
	})
}

// String lists the set features by name, space-separated.
func (c Incompat) String() string {
	return featureString(uint32(c), "I", func(b uint32) string {
		for _, n := range incompatNames {
			if uint32(n.bit) == b {
				return n.name
			}
		}
		return ""
	})
}

// String lists the set features by name, space-separated.
func (c RoCompat) String() string {
	return featureString(uint32(c), "R", func(b uint32) string {
		for _, n := range roCompatNames {
			if uint32(n.bit) == b {
				return n.name
			}
		}
		return ""
	})
}
