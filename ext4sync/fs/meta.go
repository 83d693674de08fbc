package fs

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// span is a range of blocks [start, end).
type span struct{ start, end uint64 }

// metaName names one group's metadata structure in messages.
func metaName(m disk.MetaSpan) string {
	what := m.Kind.String()
	if m.Kind == disk.MetaSuperblock || m.Kind == disk.MetaDescriptors {
		what = "superblock and descriptors"
	}
	return fmt.Sprintf("group %d %s", m.Group, what)
}

// metadataSpans lists every block that is filesystem metadata (the
// layout's superblocks and descriptor tables with their reserved blocks,
// bitmaps and inode tables), merged and sorted. Allocation never hands
// these out. Two structures sharing a block mean the descriptors are
// corrupt: writing one would destroy the other.
func (f *FS) metadataSpans() ([]span, error) {
	s := f.layout.MetadataSpans()
	for i := 1; i < len(s); i++ {
		if s[i].Start < s[i-1].End {
			return nil, corruptf("%s at block %d overlaps %s (blocks %d..%d)", metaName(s[i]), s[i].Start, metaName(s[i-1]), s[i-1].Start, s[i-1].End-1)
		}
	}
	plain := make([]span, len(s))
	for i := range s {
		plain[i] = span{s[i].Start, s[i].End}
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
	return fmt.Sprintf("%s (block %d)", f.metaBlockName(blk), blk)
}

// metaBlockName names the structure metadata block blk belongs to. It
// lists every group's structures, which is fine on the error paths that
// call it.
func (f *FS) metaBlockName(blk uint64) string {
	for _, m := range f.layout.MetadataSpans() {
		if blk >= m.Start && blk < m.End {
			return metaName(m)
		}
	}
	// The journal's blocks are the only other metadata (checkJournal).
	return fmt.Sprintf("journal (inode %d)", f.sb.JournalInum)
}
