package fs

import (
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

// metadataSpans lists every block that is filesystem metadata: superblocks
// and descriptor tables with their reserved blocks, bitmaps and inode
// tables, merged and sorted. Allocation never hands these out.
func (f *FS) metadataSpans() []span {
	var s []span
	for g := uint32(0); g < f.geo.Groups; g++ {
		if sp := f.superSpan(g); sp.end > sp.start {
			s = append(s, sp)
		}
		gd := &f.gds[g]
		s = append(s, span{gd.BlockBitmap(), gd.BlockBitmap() + 1},
			span{gd.InodeBitmap(), gd.InodeBitmap() + 1},
			span{gd.InodeTable(), gd.InodeTable() + f.geo.ItableBlocks})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].start < s[j].start })
	out := s[:0]
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
