package ext4sync

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Content the base already holds is not written again. The data blocks of
// the files the release removes are freed, but their bytes are still on
// the device: a new block whose content equals one of them (a file moved
// under another name, a package's file carried into another package) takes
// that block instead of a new one, and Fill then finds its bytes already
// there and writes nothing. Only the block bitmap records the change.
//
// The index holds the freed blocks by digest, in removal order, and is
// read once, the first time a block needs placing. A block is handed out
// only while it is still free, and at most once.

// freedIndex maps content digests to freed blocks holding that content.
type freedIndex struct {
	blocks map[uint64][]uint64
}

// reuseBlock is file.LayoutOptions.Reuse: a freed block holding exactly
// the content with digest d, claimed, if there is one.
func (a *applier) reuseBlock(d uint64) (uint64, bool, error) {
	if len(a.freedData) == 0 {
		return 0, false, nil
	}
	if a.byDigest == nil {
		if err := a.indexFreed(); err != nil {
			return 0, false, err
		}
	}
	cands := a.byDigest.blocks[d]
	for len(cands) > 0 {
		blk := cands[0]
		cands = cands[1:]
		used, err := a.f.BlockInUse(blk)
		if err != nil {
			return 0, false, err
		}
		if used {
			continue // reallocated since it was freed
		}
		if err := a.f.ClaimBlocks(blk, 1); err != nil {
			return 0, false, err
		}
		a.byDigest.blocks[d] = cands
		return blk, true, nil
	}
	delete(a.byDigest.blocks, d)
	return 0, false, nil
}

// indexFreed reads every freed data block and indexes it by digest.
func (a *applier) indexFreed() error {
	idx := &freedIndex{blocks: make(map[uint64][]uint64)}
	for _, e := range a.freedData {
		for blk := e.Start; blk < e.Start+e.Len; blk++ {
			b, err := a.f.ReadBlock(blk)
			if err != nil {
				return fmt.Errorf("ext4sync: read freed block %d: %w", blk, err)
			}
			if d := tree.BlockDigest(b); d != 0 {
				idx.blocks[d] = append(idx.blocks[d], blk)
			}
		}
	}
	a.byDigest = idx
	return nil
}
