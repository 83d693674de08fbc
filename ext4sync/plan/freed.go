package plan

// Content the base already holds is not written again. The data blocks of
// the regular files a release removes (Plan.FreesData) are freed, but
// their bytes are still on the device: a new block whose content equals
// one of them (a file moved under another name, a package's file carried
// into another package) takes that block instead of a new one, and then
// finds its bytes already there. Only the block bitmap records the change.

// FreedBlock is a data block a removal frees and the digest of the bytes
// it holds (tree.BlockDigest; 0 for an all-zero block).
type FreedBlock struct {
	Block  uint64
	Digest uint64
}

// FreedContent hands out freed blocks by the content they hold: for each
// digest, its blocks in the order they were given, each at most once.
type FreedContent struct {
	blocks map[uint64][]uint64
}

// IndexFreed indexes the freed blocks, in the order given (the plan's
// removal order, then block order). All-zero blocks are left out: the
// sync stores those as holes.
func IndexFreed(blocks []FreedBlock) *FreedContent {
	c := &FreedContent{blocks: make(map[uint64][]uint64)}
	for _, b := range blocks {
		if b.Digest != 0 {
			c.blocks[b.Digest] = append(c.blocks[b.Digest], b.Block)
		}
	}
	return c
}

// Take returns the first block not handed out yet that holds the content
// with digest d and that free reports still free (a block reallocated
// since it was freed is skipped for good), and hands it out.
func (c *FreedContent) Take(d uint64, free func(blk uint64) (bool, error)) (uint64, bool, error) {
	if c == nil {
		return 0, false, nil
	}
	cands := c.blocks[d]
	for len(cands) > 0 {
		blk := cands[0]
		cands = cands[1:]
		ok, err := free(blk)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			continue
		}
		c.blocks[d] = cands
		return blk, true, nil
	}
	delete(c.blocks, d)
	return 0, false, nil
}
