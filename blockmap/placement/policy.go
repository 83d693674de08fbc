package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// changeCounter is the optional shortcut the device may offer: the policy
// rescans its changes (fs.ChangedRanges) only when the count moves, as the
// overlay device's does.
type changeCounter interface{ ChangedCount() int }

// Policy is the cost-aware placement. It implements fs.Placement and is
// for one FS at a time (it learns the geometry from the first view).
type Policy struct {
	model blockmap.Model
	dev   fs.ChangedRanges // what the policy sees of the writes already made
	err   error            // a model that cannot be used, reported by every call

	ready bool
	geo   disk.Geometry
	// layout is where each group's metadata lives, when the view says;
	// nil: the policy counts no metadata writes and inodes follow
	// fs.DefaultPlacement.
	layout *disk.Layout
	span   uint64 // blocks per placement unit (G)
	units  int64

	free      []uint32  // free blocks per unit, as last seen
	dirty     bitset    // changed on the device or pending
	byFree    *freeSets // clean units by free count
	dirtyFree bitset    // dirty units with a free block
	room      uint64    // free blocks in dirty units: the sum of free over dirty
	groupFree []uint32  // each group's free count as the policy expects it

	seenChanges int // ChangedCount at the last device scan; -1 never

	undo undoLog // the tentative answer being built, if any
}

var _ fs.Placement = (*Policy)(nil)

// New returns a policy for images tiled by model, watching dev (nil: only
// the policy's own allocations count as dirty). A model that does not
// validate makes every call fail.
func New(model blockmap.Model, dev fs.ChangedRanges) *Policy {
	p := &Policy{model: model, dev: dev, seenChanges: -1}
	if err := model.Validate(); err != nil {
		p.err = fmt.Errorf("placement: %w", err)
	}
	return p
}

// granule is the placement unit in bytes: the write unit, or the chunk
// when chunks are larger and a multiple of it (then one write anywhere in
// a chunk pays for the whole chunk).
func (p *Policy) granule() int64 {
	w, c := p.model.WriteUnit, p.model.Chunk
	if c > w && c%w == 0 {
		return c
	}
	return w
}

// unitOf is the placement unit holding block blk.
func (p *Policy) unitOf(blk uint64) int64 { return int64(blk / p.span) }

// unitBlocks is the block range [first, end) of unit u that the filesystem
// can allocate from.
func (p *Policy) unitBlocks(u int64) (uint64, uint64) {
	first := max(uint64(u)*p.span, p.geo.FirstDataBlock)
	return first, min(uint64(u+1)*p.span, p.geo.BlocksCount)
}

// DirtyUnits returns the placement units the policy counts as dirty, in
// ascending order (for tests and reports).
func (p *Policy) DirtyUnits() []int64 {
	var out []int64
	if !p.ready {
		return out
	}
	for u := p.dirty.next(0, true); u >= 0; u = p.dirty.next(u+1, true) {
		out = append(out, u)
	}
	return out
}

// UnitBytes is the placement unit in bytes: max(W, C) when one divides the
// other, else W.
func (p *Policy) UnitBytes() int64 { return p.granule() }
