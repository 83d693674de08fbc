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

// labeledSpan is a metadata range and what it is, for error messages.
type labeledSpan struct {
	span
	what string
}

// metadataSpans lists every block that is filesystem metadata: superblocks
// and descriptor tables with their reserved blocks, bitmaps and inode
// tables, merged and sorted. Allocation never hands these out. Two
// structures sharing a block mean the descriptors are corrupt: writing one
// would destroy the other.
func (f *FS) metadataSpans() ([]span, error) {
	var s []labeledSpan
	for g := uint32(0); g < f.geo.Groups; g++ {
		if sp := f.superSpan(g); sp.end > sp.start {
			s = append(s, labeledSpan{sp, fmt.Sprintf("group %d superblock and descriptors", g)})
		}
		gd := &f.gds[g]
		s = append(s,
			labeledSpan{span{gd.BlockBitmap(), gd.BlockBitmap() + 1}, fmt.Sprintf("group %d block bitmap", g)},
			labeledSpan{span{gd.InodeBitmap(), gd.InodeBitmap() + 1}, fmt.Sprintf("group %d inode bitmap", g)},
			labeledSpan{span{gd.InodeTable(), gd.InodeTable() + f.geo.ItableBlocks}, fmt.Sprintf("group %d inode table", g)})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
	for i := 1; i < len(s); i++ {
		if s[i].start < s[i-1].end {
			return nil, corruptf("%s at block %d overlaps %s (blocks %d..%d)", s[i].what, s[i].start, s[i-1].what, s[i-1].start, s[i-1].end-1)
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
// descriptor, bitmap or inode table block.
func (f *FS) IsMetadata(blk uint64) bool {
	_, ok := f.metaOverlap(blk, blk+1)
	return ok
}
