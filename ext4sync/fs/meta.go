package fs

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// span is a range of blocks [start, end).
type span struct{ start, end uint64 }

// hasSuper reports whether group g holds a superblock backup (and so the
// descriptor table and its reserved blocks), per sparse_super(2).
func (f *FS) hasSuper(g uint32) bool {
	if g == 0 {
		return true
	}
	if f.sb.FeatureCompat.Has(disk.CompatSparseSuper2) {
		return g == f.sb.BackupBgs[0] || g == f.sb.BackupBgs[1]
	}
	if !f.sb.FeatureRoCompat.Has(disk.RoCompatSparseSuper) {
		return true
	}
	return g == 1 || isPower(g, 3) || isPower(g, 5) || isPower(g, 7)
}

func isPower(n, base uint32) bool {
	for n > 1 && n%base == 0 {
		n /= base
	}
	return n == 1
}

// superSpan is the superblock, descriptor table and reserved descriptor
// blocks of group g (empty if it holds no backup).
func (f *FS) superSpan(g uint32) span {
	if !f.hasSuper(g) {
		return span{}
	}
	start := f.geo.GroupFirstBlock(g)
	if g == 0 {
		start = 0 // block 0 with 1 KiB blocks holds the boot sector
	}
	end := f.geo.GroupFirstBlock(g) + 1 + f.geo.GdtBlocks + f.geo.ReservedGdt
	return span{start, min(end, f.geo.BlocksCount)}
}

// metaKind is a kind of metadata structure a group descriptor places.
type metaKind uint8

const (
	metaSuper metaKind = iota // superblock copy, descriptors, reserved descriptors
	metaBlockBitmap
	metaInodeBitmap
	metaInodeTable
)

var metaKindNames = [...]string{
	metaSuper:       "superblock and descriptors",
	metaBlockBitmap: "block bitmap",
	metaInodeBitmap: "inode bitmap",
	metaInodeTable:  "inode table",
}

// metaSpan is one group's metadata structure, named only when a message
// needs it.
type metaSpan struct {
	span
	kind  metaKind
	group uint32
}

func (m metaSpan) name() string { return fmt.Sprintf("group %d %s", m.group, metaKindNames[m.kind]) }

// groupMeta lists group g's structures; the superblock span is empty in
// groups without a backup.
func (f *FS) groupMeta(g uint32) [4]metaSpan {
	gd := &f.gds[g]
	return [4]metaSpan{
		{f.superSpan(g), metaSuper, g},
		{span{gd.BlockBitmap(), gd.BlockBitmap() + 1}, metaBlockBitmap, g},
		{span{gd.InodeBitmap(), gd.InodeBitmap() + 1}, metaInodeBitmap, g},
		{span{gd.InodeTable(), gd.InodeTable() + f.geo.ItableBlocks}, metaInodeTable, g},
	}
}

// metadataSpans lists every block that is filesystem metadata: superblocks
// and descriptor tables with their reserved blocks, bitmaps and inode
// tables, merged and sorted. Allocation never hands these out. Two
// structures sharing a block mean the descriptors are corrupt: writing one
// would destroy the other.
func (f *FS) metadataSpans() ([]span, error) {
	s := make([]metaSpan, 0, 4*int(f.geo.Groups))
	for g := uint32(0); g < f.geo.Groups; g++ {
		for _, m := range f.groupMeta(g) {
			if m.end > m.start {
				s = append(s, m)
			}
		}
	}
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
	for i := 1; i < len(s); i++ {
		if s[i].start < s[i-1].end {
			return nil, corruptf("%s at block %d overlaps %s (blocks %d..%d)", s[i].name(), s[i].start, s[i-1].name(), s[i-1].start, s[i-1].end-1)
		}
	}
	plain := make([]span, len(s))
	for i := range s {
		plain[i] = s[i].span
	}
	return mergeSpans(plain), nil
}

// mergeSpans sorts spans and joins those that touch or overlap.
func mergeSpans(s []span) []span {
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
	var out []span
	for _, sp := range s {
		if n := len(out); n > 0 && sp.start <= out[n-1].end {
			out[n-1].end = max(out[n-1].end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// metaOverlap returns the first metadata span that overlaps [start, end),
// if any.
func (f *FS) metaOverlap(start, end uint64) (span, bool) {
	i := sort.Search(len(f.meta), func(i int) bool { return f.meta[i].end > start })
	if i < len(f.meta) && f.meta[i].start < end {
		return f.meta[i], true
	}
	return span{}, false
}

// IsMetadata reports whether blk is a superblock, descriptor, reserved
// descriptor, bitmap, inode table or journal block.
func (f *FS) IsMetadata(blk uint64) bool {
	_, ok := f.metaOverlap(blk, blk+1)
	return ok
}

// MetadataIn names the metadata structure holding the first block of
// [start, start+n) that is metadata, with that block: "group 0 inode table
// (block 35)". It returns "" when no block of the range is metadata, at the
// cost of one binary search, so readers can check every extent they load.
func (f *FS) MetadataIn(start, n uint64) string {
	end := start + n
	if end < start {
		end = ^uint64(0)
	}
	sp, ok := f.metaOverlap(start, end)
	if !ok {
		return ""
	}
	blk := max(start, sp.start)
	return fmt.Sprintf("%s (block %d)", f.metaName(blk), blk)
}

// metaName names the structure metadata block blk belongs to. It scans
// every group, which is fine on the error paths that call it.
func (f *FS) metaName(blk uint64) string {
	for g := uint32(0); g < f.geo.Groups; g++ {
		for _, m := range f.groupMeta(g) {
			if blk >= m.start && blk < m.end {
				return m.name()
			}
		}
	}
	// The journal's blocks are the only other metadata (checkJournal).
	return fmt.Sprintf("journal (inode %d)", f.sb.JournalInum)
}
