package file

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// A regular file's content is written in two steps, so that where blocks
// go never depends on the order in which a source delivers content:
//
//   - Place decides, from the new content's block digests alone, which
//     physical block holds each logical block: all-zero blocks become
//     holes, blocks that stay are kept where they lie, the rest are
//     allocated; blocks no longer used are freed and the extent tree is
//     rebuilt. It writes no data.
//   - Fill then reads the bytes and writes each block where Place put
//     it, skipping blocks whose bytes are already there.

// ContentStats says what Place and Fill did.
type ContentStats struct {
	Changed         bool   // the content, size or mapping changed
	BlocksWritten   uint64 // data blocks written because their bytes differed (new ones included)
	BlocksAllocated uint64 // data blocks newly allocated
	BlocksFreed     uint64 // data blocks freed (now holes, or past the end)
}

// add sums two steps' stats.
func (s ContentStats) add(o ContentStats) ContentStats {
	return ContentStats{
		Changed:         s.Changed || o.Changed,
		BlocksWritten:   s.BlocksWritten + o.BlocksWritten,
		BlocksAllocated: s.BlocksAllocated + o.BlocksAllocated,
		BlocksFreed:     s.BlocksFreed + o.BlocksFreed,
	}
}

// allocMax is the most blocks Place asks the allocator for at once: one
// extent's worth.
const allocMax = extent.MaxInitLen

// PlaceOptions say how Place maps a file's content.
type PlaceOptions struct {
	// How: InPlace keeps every mapped block under a non-zero block where
	// it lies (Fill overwrites it if its bytes differ); Relocate gives
	// every non-zero block a new one and frees all the old.
	How fs.Rewrite
	// Reuse, when set, is asked for every block that needs a new one,
	// with its digest: it may return a free block that already holds
	// exactly those bytes, which it has claimed (fs.ClaimBlocks) for the
	// file, so Fill finds them there and writes nothing.
	Reuse func(digest uint64) (blk uint64, ok bool, err error)
}

// placer is the state of one Place call.
type placer struct {
	i        *Inode
	how      fs.Rewrite
	reuse    func(uint64) (uint64, bool, error)
	maps     []extent.Mapping
	free     []fs.Extent
	pending  uint64 // blocks waiting for one allocation, from pendLblk on
	pendLblk uint32
	prevPhys uint64
	st       ContentStats
}

// Place maps a regular file's new content of size bytes whose block
// digests (tree.Digests.Blocks at the filesystem's block size; blocks not
// in it are all zeros) are blocks, as o says. New blocks are o.Reuse's
// answer, else come from fs.AllocBlocks, each run's goal right after the
// previous mapped block (else the Placement's choice); blocks past the new
// size, and blocks under holes, are freed once the new extent tree is
// stored. i_size and i_blocks are updated; no data is written. The work
// follows the blocks that hold data and the old mapping, not the size: a
// hole of any length costs one step.
func (i *Inode) Place(blocks tree.Digests, size int64, o PlaceOptions) (ContentStats, error) {
	if i.kind != tree.Regular {
		return ContentStats{}, kindf(i.ino, "write content", i.kind)
	}
	bs := int64(i.fs.BlockSize())
	nblocks := (size + bs - 1) / bs
	if size < 0 || nblocks > maxLogical {
		return ContentStats{}, fmtInvalid("inode %d: content size %d cannot be stored", i.ino, size)
	}
	if blocks.N != nblocks || blocks.Unit != int(bs) {
		return ContentStats{}, fmtInvalid("inode %d: %d block digests of %d bytes for %d bytes (%d blocks)", i.ino, blocks.N, blocks.Unit, size, nblocks)
	}
	if i.ext == nil {
		i.setEmptyExtents()
	}
	l := &placer{i: i, how: o.How, reuse: o.Reuse}
	next := int64(0)
	err := blocks.Each(func(lb int64, d uint64) error {
		if lb > next {
			if err := l.hole(uint32(next), uint32(lb)); err != nil {
				return err
			}
		}
		next = lb + 1
		return l.block(uint32(lb), d)
	})
	if err != nil {
		return l.st, err
	}
	if next < nblocks {
		if err := l.hole(uint32(next), uint32(nblocks)); err != nil {
			return l.st, err
		}
	}
	if err := l.flush(); err != nil {
		return l.st, err
	}
	if o.How == fs.Relocate {
		l.freeTail(0)
	} else {
		l.freeTail(uint32(nblocks))
	}
	oldRoot, oldNodes := i.raw.Block, len(i.ext.Nodes)
	if _, err := i.rebuild(l.maps); err != nil {
		return l.st, err
	}
	for _, e := range l.free {
		if err := i.fs.FreeBlocks(e.Start, e.Len); err != nil {
			return l.st, wrapf(i.ino, fmt.Sprintf("free data blocks %d+%d", e.Start, e.Len), err)
		}
	}
	if uint64(size) != i.raw.Size() {
		i.raw.SetSize(uint64(size))
		l.st.Changed = true
	}
	if l.st.BlocksAllocated+l.st.BlocksFreed > 0 || oldRoot != i.raw.Block || oldNodes != len(i.ext.Nodes) {
		l.st.Changed = true
	}
	if l.st.Changed {
		i.dirty = true
	}
	return l.st, nil
}

// hole places the all-zero logical blocks [from, to): no block; the old
// blocks mapped there are freed (a relocation frees them all anyway).
func (l *placer) hole(from, to uint32) error {
	if err := l.flush(); err != nil {
		return err
	}
	if l.how == fs.Relocate {
		return nil
	}
	maps := l.i.ext.Mappings
	k := sort.Search(len(maps), func(k int) bool { return maps[k].End() > uint64(from) })
	for ; k < len(maps) && uint64(maps[k].Logical) < uint64(to); k++ {
		m := maps[k]
		s := max(m.Logical, from)
		e := min(m.End(), uint64(to))
		l.addFree(m.Physical+uint64(s-m.Logical), e-uint64(s))
	}
	return nil
}

// block places logical block lb, whose new content has digest d.
func (l *placer) block(lb uint32, d uint64) error {
	phys, uninit, ok := l.i.ext.Lookup(lb)
	if l.how == fs.Relocate {
		ok = false // freed with the rest by freeTail(0)
	}
	switch {
	case d == 0:
		if ok {
			l.addFree(phys, 1)
		}
		return l.flush()
	case !ok:
		if l.reuse != nil {
			blk, found, err := l.reuse(d)
			if err != nil {
				return wrapf(l.i.ino, "reuse a block", err)
			}
			if found {
				if err := l.flush(); err != nil {
					return err
				}
				l.st.BlocksAllocated++
				l.addMap(lb, blk, 1)
				return nil
			}
		}
		if l.pending == 0 {
			l.pendLblk = lb
		}
		l.pending++
		if l.pending >= allocMax {
			return l.flush()
		}
		return nil
	}
	if err := l.flush(); err != nil {
		return err
	}
	if uninit {
		l.st.Changed = true // the extent becomes initialized
	}
	l.addMap(lb, phys, 1)
	return nil
}

// flush allocates the pending blocks.
func (l *placer) flush() error {
	if l.pending == 0 {
		return nil
	}
	i := l.i
	req := fs.BlockRequest{N: l.pending, Ino: i.ino}
	if l.prevPhys != 0 {
		req.Goal = l.prevPhys + 1
	}
	ext, err := i.fs.AllocBlocks(req)
	if err != nil {
		return wrapf(i.ino, fmt.Sprintf("allocate %d data blocks", req.N), err)
	}
	lb, got := l.pendLblk, uint64(0)
	for _, e := range ext {
		l.addMap(lb, e.Start, uint32(e.Len))
		lb += uint32(e.Len)
		got += e.Len
	}
	if got != l.pending {
		return wrapf(i.ino, "allocate data blocks", fmt.Errorf("allocator returned %d of %d blocks: %w", got, l.pending, fs.ErrInvalid))
	}
	l.st.BlocksAllocated += got
	l.pending = 0
	return nil
}

// addMap appends n blocks at lb -> phys, merging with the previous run.
func (l *placer) addMap(lb uint32, phys uint64, n uint32) {
	if k := len(l.maps); k > 0 {
		last := &l.maps[k-1]
		if last.Logical+last.Len == lb && last.Physical+uint64(last.Len) == phys && uint64(last.Len)+uint64(n) <= extent.MaxInitLen {
			last.Len += n
			l.prevPhys = phys + uint64(n) - 1
			return
		}
	}
	l.maps = append(l.maps, extent.Mapping{Logical: lb, Physical: phys, Len: n})
	l.prevPhys = phys + uint64(n) - 1
}

// addFree records n old data blocks from phys on to free once the new
// tree is stored.
func (l *placer) addFree(phys, n uint64) {
	l.st.BlocksFreed += n
	if k := len(l.free); k > 0 && l.free[k-1].Start+l.free[k-1].Len == phys {
		l.free[k-1].Len += n
		return
	}
	l.free = append(l.free, fs.Extent{Start: phys, Len: n})
}

// freeTail records the old blocks at or past logical block end.
func (l *placer) freeTail(end uint32) {
	for _, m := range l.i.ext.Mappings {
		if m.End() <= uint64(end) {
			continue
		}
		skip := uint32(0)
		if m.Logical < end {
			skip = end - m.Logical
		}
		l.st.BlocksFreed += uint64(m.Len - skip)
		l.free = append(l.free, fs.Extent{Start: m.Physical + uint64(skip), Len: uint64(m.Len - skip)})
	}
}
