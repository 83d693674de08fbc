package ext4sync

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// freedReadBlocks bounds one read of freed blocks.
const freedReadBlocks = 256

// indexFreed reads, before anything is written, the data blocks the plan's
// removals free, and indexes them by content (plan.FreedContent) for
// reuseBlock.
func (a *applier) indexFreed() error {
	var blocks []plan.FreedBlock
	bs := uint64(a.f.BlockSize())
	for _, rm := range a.p.Remove {
		if !a.p.FreesData(rm) {
			continue
		}
		in, err := file.Load(a.f, rm.Inode)
		if err != nil {
			return fmt.Errorf("ext4sync: load inode %d (%s): %w", rm.Inode, displayPath(rm.Path), err)
		}
		for _, e := range in.DataExtents() {
			for off := uint64(0); off < e.Len; off += freedReadBlocks {
				n := min(freedReadBlocks, e.Len-off)
				b, err := a.f.ReadBlocks(e.Start+off, n)
				if err != nil {
					return fmt.Errorf("ext4sync: read freed blocks %d+%d: %w", e.Start+off, n, err)
				}
				for i := uint64(0); i < n; i++ {
					blocks = append(blocks, plan.FreedBlock{Block: e.Start + off + i, Digest: tree.BlockDigest(b[i*bs : (i+1)*bs])})
				}
			}
		}
	}
	if len(blocks) > 0 {
		a.freed = plan.IndexFreed(blocks)
	}
	return nil
}

// reuseBlock is file.PlaceOptions.Reuse: a freed block still free that
// holds exactly the content with digest d, claimed, if there is one.
func (a *applier) reuseBlock(d uint64) (uint64, bool, error) {
	blk, ok, err := a.freed.Take(d, func(b uint64) (bool, error) {
		used, err := a.f.BlockInUse(b)
		return !used, err
	})
	if err != nil || !ok {
		return 0, false, err
	}
	if err := a.f.ClaimBlocks(blk, 1); err != nil {
		return 0, false, err
	}
	return blk, true, nil
}
