package check

import (
	"errors"
	"fmt"
)

// hunt is set on a second checker that replays the claims of pass 0 and
// pass 1 only to name the structure that first claimed a block.
type hunt struct {
	blk  uint64
	name string
}

// errFound stops a hunt once the claimant is known.
var errFound = errors.New("claimant found")

// claim marks blocks [blk, blk+n) in use by the structure owner names
// (given the block it is asked about).
// A block already in use is claimed twice: the error names both owners.
func (c *checker) claim(blk, n uint64, owner func(b uint64) string) error {
	if n == 0 {
		return nil
	}
	if blk < c.lay.FirstDataBlock || blk >= c.lay.BlocksCount || n > c.lay.BlocksCount-blk {
		return bad(owner(blk), "blocks %d+%d outside the filesystem (%d..%d)", blk, n, c.lay.FirstDataBlock, c.lay.BlocksCount-1)
	}
	if h := c.owner; h != nil {
		if h.blk >= blk && h.blk-blk < n {
			h.name = owner(h.blk)
			return errFound
		}
		return nil
	}
	if d := c.found.setRange(blk, n); d >= 0 {
		return bad(owner(uint64(d)), "block %d is also used by %s (claimed twice)", d, c.firstClaimant(uint64(d)))
	}
	return nil
}

// firstClaimant replays the claims from the start on a fresh checker and
// names the first structure that claims blk. It runs only on the error
// path, so it may cost another scan of the inode tables.
func (c *checker) firstClaimant(blk uint64) string {
	h := &checker{r: c.r, size: c.size, sb: c.sb, lay: c.lay, gds: c.gds, seed: c.seed,
		lowDtime: c.lowDtime, owner: &hunt{blk: blk}}
	h.found = newBitset(c.lay.BlocksCount)
	err := h.markTables()
	if err == nil {
		err = h.scanInodes()
	}
	if errors.Is(err, errFound) {
		return h.owner.name
	}
	return fmt.Sprintf("another structure (block %d)", blk)
}
