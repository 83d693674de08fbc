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
// The mapping list is normalized first (see Normalize). Up to RootMax
// extents live in the root; more go into leaf blocks (eh_max (bs-12)/12)
// under as many index levels as needed. Build keeps the device changes
// small when old (the tree the inode had, or nil) is given:
//   - an old node whose entries recur unchanged keeps its block and bytes,
//     so only the nodes holding a change are rewritten (a tail append
//     rewrites the last leaf; a change in the middle, the leaf holding it);
//   - changed entries are packed full into the old blocks they replace,
//     spilling into following nodes only when a node overflows;
//   - a reused block keeps its old bytes past the live entries, and a node
//     whose bytes come out identical is not written at all;
//   - if keeping old nodes would leave a tree e2fsck calls narrower or
//     shorter than it could be, Build packs tighter, down to every node full.
//
// Extra node blocks come from a, asked for near the previous node on their
// level or near their data; old nodes left over are freed through a after
// the new tree is written. eh_generation is 0; tree blocks get their
// checksum tail when opt.Csum.
//
// On an error before writing (bad mappings, allocation or read failure)
// nothing is written and blocks taken from a are given back. On a write
// error, reused old nodes may already hold new bytes: the old tree is no
// longer valid and the caller must give up on the image.
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
	olds := oldLevels(old)
	var sh *shape
	for _, mode := range []packing{keepAll, keepCascade, keepPrefix, keepNone} {
		sh, err = shapeOf(ext, old, olds, per, mode)
		if err != nil {
			return nil, nil, fmt.Errorf("extent: inode %d: %d extents: %w", opt.Ino, len(ext), err)
		}
		if !wouldRebuild(sh.counts(), sh.root, per) {
			break
		}
	}
	return apply(sh, ext, old, s, a, opt)
}

// apply allocates the shape's missing blocks, renders every node, writes
// the nodes whose bytes changed and frees the old nodes left out.
func apply(sh *shape, ext []Mapping, old *Tree, s Store, a Allocator, opt Options) (*Tree, *Changes, error) {
	bs := s.BlockSize()
	per := BlockMax(bs)
	allocated, err := allocate(sh, ext, a, opt)
	if err != nil {
		return nil, nil, err
	}
	oldNode := map[uint64]bool{}
	if old != nil {
		for _, b := range old.Nodes {
			oldNode[b] = true
		}
	}
	undo := func(err error) (*Tree, *Changes, error) {
		for _, b := range allocated {
			_ = a.FreeBlock(b) // best effort: report the first error
		}
		return nil, nil, err
	}

	if err := nodesOutsideData(sh.blocks, ext); err != nil {
		return undo(fmt.Errorf("ext4: inode %d: %w", opt.Ino, err))
	}

	// Render every node first, so a read error leaves the device untouched.
	first := sh.firstExtents()
	t := &Tree{Depth: len(sh.groups), Mappings: ext, Levels: sh.blocks, Entries: sh.counts()}
	t.Nodes = preorder(t.Levels, t.Entries)
	order := make(map[uint64]int, len(t.Nodes))
	for i, b := range t.Nodes {
		order[b] = i
	}
	type pending struct {
		blk  uint64
		data []byte
	}
	var writes []pending
	for d, gs := range sh.groups {
		for j, g := range gs {
			blk := sh.blocks[d][j]
			buf := make([]byte, bs)
			var before []byte
			if oldNode[blk] {
				before, err = s.ReadBlock(blk)
				if err != nil {
					return undo(fmt.Errorf("ext4: inode %d extent node block %d: read: %w", opt.Ino, blk, err))
				}
				if len(before) != bs {
					return undo(fmt.Errorf("ext4: inode %d extent node block %d: read %d bytes, want %d", opt.Ino, blk, len(before), bs))
				}
				copy(buf, before)
			}
			fill(buf, uint16(per), d, g.start, g.n, ext, sh, first)
			if opt.Csum {
				putChecksum(opt.Seed, buf)
			}
			if before == nil || !bytes.Equal(before, buf) {
				writes = append(writes, pending{blk, buf})
			}
		}
	}
	if old != nil {
		t.Root = old.Root
	}
	if d := t.Depth; d == 0 {
		fill(t.Root[:], RootMax, 0, 0, len(ext), ext, sh, first)
	} else {
		fill(t.Root[:], RootMax, d, 0, len(sh.blocks[d-1]), ext, sh, first)
	}

	slices.SortStableFunc(writes, func(x, y pending) int { return cmp.Compare(order[x.blk], order[y.blk]) })
	ch := &Changes{Allocated: allocated}
	for _, p := range writes {
		if err := s.WriteBlock(p.blk, p.data); err != nil {
			return undo(fmt.Errorf("ext4: inode %d extent node block %d: write: %w", opt.Ino, p.blk, err))
		}
		ch.Written = append(ch.Written, p.blk)
	}
	if old != nil {
		for _, b := range old.Nodes {
			if _, ok := order[b]; !ok {
				if err := a.FreeBlock(b); err != nil {
					return nil, nil, fmt.Errorf("ext4: inode %d: free extent node block %d: %w", opt.Ino, b, err)
				}
				ch.Freed = append(ch.Freed, b)
			}
		}
	}
	return t, ch, nil
}

// fill writes a node's header and its n entries from start of the level
// below (extents when depth is 0) into b, leaving b's other bytes alone.
func fill(b []byte, max uint16, depth, start, n int, ext []Mapping, sh *shape, first [][]int) {
	Header{Magic: Magic, Entries: uint16(n), Max: max, Depth: uint16(depth)}.Put(b)
	for i := range n {
		at := b[HeaderSize+EntrySize*i:]
		if depth == 0 {
			leafOf(ext[start+i]).Put(at)
			continue
		}
		c := sh.blocks[depth-1][start+i]
		Index{Block: ext[first[depth-1][start+i]].Logical, LeafLo: uint32(c), LeafHi: uint16(c >> startHiShift)}.Put(at)
	}
}

// nodesOutsideData checks that no node block is also one of the file's data
// blocks (an allocator handing out a block the caller mapped but did not
// mark would otherwise make e2fsck find it claimed twice).
func nodesOutsideData(levels [][]uint64, ext []Mapping) error {
	var nodes []uint64
	for _, bs := range levels {
		nodes = append(nodes, bs...)
	}
	if len(nodes) == 0 {
		return nil
	}
	slices.Sort(nodes)
	for _, m := range ext {
		i, _ := slices.BinarySearch(nodes, m.Physical)
		if i < len(nodes) && nodes[i] < m.Physical+uint64(m.Len) {
			return fmt.Errorf("extent node block %d is also data block %d of the file", nodes[i], uint64(m.Logical)+nodes[i]-m.Physical)
		}
	}
	return nil
}
