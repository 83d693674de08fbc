package extent

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
)

// Changes reports what Build did to the device and the allocator.
type Changes struct {
	Written   []uint64 // node blocks whose bytes changed, in tree order
	Allocated []uint64 // blocks taken from the Allocator
	Freed     []uint64 // old node blocks given back to the Allocator
}

// Build stores maps as a valid extent tree and returns it with the new root
// (to copy into i_block) and its node blocks (for i_blocks and the bitmap).
//
// The mapping list is normalized (see Normalize). Up to RootMax extents live
// in the root; more go into leaf blocks packed full (eh_max (bs-12)/12),
// with index levels as needed. Node blocks of old (the tree the inode had,
// or nil) are reused level by level and position by position, so a change
// at the tail of a file rewrites only the nodes at the tail; a reused node
// keeps its old bytes past the live entries, and a node whose bytes come out
// identical is not written at all. Extra nodes come from a (near the old
// nodes or the data); surplus old nodes are freed through a after the new
// tree is written. eh_generation is 0; tree blocks get their checksum tail
// when opt.Csum. On error, nothing has been written and any blocks taken
// from a have been given back.
func Build(maps []Mapping, old *Tree, s Store, a Allocator, opt Options) (*Tree, *Changes, error) {
	if opt.BlocksCount == 0 || opt.FirstDataBlock >= opt.BlocksCount {
		return nil, nil, fmt.Errorf("extent: inode %d: options: block range [%d, %d) is empty", opt.Ino, opt.FirstDataBlock, opt.BlocksCount)
	}
	bs := s.BlockSize()
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return nil, nil, fmt.Errorf("extent: inode %d: block size %d is not a valid ext4 block size", opt.Ino, bs)
	}
	ext, err := Normalize(maps, opt)
	if err != nil {
		return nil, nil, err
	}
	per := BlockMax(bs)
	counts, err := shape(len(ext), per)
	if err != nil {
		return nil, nil, fmt.Errorf("extent: inode %d: %d extents: %w", opt.Ino, len(ext), err)
	}
	as, err := assign(counts, old, ext, per, a, opt)
	if err != nil {
		return nil, nil, err
	}
	ch := &Changes{Allocated: as.allocated}
	undo := func(err error) (*Tree, *Changes, error) {
		for _, b := range as.allocated {
			_ = a.FreeBlock(b) // best effort: report the first error
		}
		return nil, nil, err
	}

	// Render every node first, so a read error leaves the device untouched.
	first := firsts(ext, counts, per)
	type pending struct {
		blk  uint64
		data []byte
	}
	var writes []pending
	for d, c := range counts {
		for j := range c {
			blk := as.levels[d][j]
			buf := make([]byte, bs)
			var before []byte
			if as.oldNode[blk] {
				before, err = s.ReadBlock(blk)
				if err != nil {
					return undo(fmt.Errorf("ext4: inode %d extent node block %d: read: %w", opt.Ino, blk, err))
				}
				if len(before) != bs {
					return undo(fmt.Errorf("ext4: inode %d extent node block %d: read %d bytes, want %d", opt.Ino, blk, len(before), bs))
				}
				copy(buf, before)
			}
			fill(buf, uint16(per), uint16(d), ext, first, as.levels, counts, per, d, j)
			if opt.Csum {
				putChecksum(opt.Seed, buf, uint16(per))
			}
			if before == nil || !bytes.Equal(before, buf) {
				writes = append(writes, pending{blk, buf})
			}
		}
	}

	t := &Tree{Depth: len(counts), Mappings: ext, Levels: as.levels}
	if old != nil {
		t.Root = old.Root
	}
	fill(t.Root[:], RootMax, uint16(len(counts)), ext, first, as.levels, counts, per, len(counts), -1)
	t.Nodes = preorder(as.levels, per)

	order := make(map[uint64]int, len(t.Nodes))
	for i, b := range t.Nodes {
		order[b] = i
	}
	slices.SortStableFunc(writes, func(x, y pending) int { return cmp.Compare(order[x.blk], order[y.blk]) })
	for _, p := range writes {
		if err := s.WriteBlock(p.blk, p.data); err != nil {
			return nil, nil, fmt.Errorf("ext4: inode %d extent node block %d: write: %w", opt.Ino, p.blk, err)
		}
		ch.Written = append(ch.Written, p.blk)
	}
	for _, b := range as.surplus {
		if err := a.FreeBlock(b); err != nil {
			return nil, nil, fmt.Errorf("ext4: inode %d: free extent node block %d: %w", opt.Ino, b, err)
		}
		ch.Freed = append(ch.Freed, b)
	}
	return t, ch, nil
}

// fill writes the header and entries of node j at level d (j < 0: the root,
// whose level d is the tree depth) into b, leaving b's other bytes alone.
func fill(b []byte, max, depth uint16, ext []Mapping, first [][]uint32, levels [][]uint64, counts []int, per, d, j int) {
	if d == 0 {
		lo, hi := 0, len(ext)
		if j >= 0 {
			lo, hi = j*per, min((j+1)*per, len(ext))
		}
		Header{Magic: Magic, Entries: uint16(hi - lo), Max: max, Depth: depth}.Put(b)
		for i, m := range ext[lo:hi] {
			leafOf(m).Put(b[HeaderSize+EntrySize*i:])
		}
		return
	}
	lo, hi := children(counts, per, d, j)
	Header{Magic: Magic, Entries: uint16(hi - lo), Max: max, Depth: depth}.Put(b)
	for i := lo; i < hi; i++ {
		c := levels[d-1][i]
		x := Index{Block: first[d-1][i], LeafLo: uint32(c), LeafHi: uint16(c >> startHiShift)}
		x.Put(b[HeaderSize+EntrySize*(i-lo):])
	}
}
