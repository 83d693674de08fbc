package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// FileChange and Rewrite are the engine's: the sync describes a changed
// file and the policy answers.
type (
	FileChange = fs.FileChange
	Rewrite    = fs.Rewrite
)

// The two answers.
const (
	InPlace  = fs.InPlace
	Relocate = fs.Relocate
)

var _ fs.Rewriter = (*Policy)(nil)

// Rewrite implements Rewriter by comparing predicted costs, in blocks'
// worth of units: in place, every clean unit holding a differing block
// costs a whole unit, and blocks it must add cost what new blocks cost;
// afresh, the whole content is new blocks. New blocks are free up to the
// room left in dirty units, and beyond it cost their share of the units
// they fill (1/G of a unit each, G blocks a unit): relocated files are
// packed densely after one another, so a unit they open is paid for once
// and shared, not once per file. So a small file whose one changed block
// would dirty a unit of its own moves next to the other new data, and a
// large file with a few changes stays. Ties stay in place (no extent or
// fragmentation churn).
func (p *Policy) Rewrite(v fs.SpaceView, c FileChange) (Rewrite, error) {
	if err := p.setup(v.Layout()); err != nil {
		return InPlace, err
	}
	if err := p.refresh(v); err != nil {
		return InPlace, err
	}
	clean := make(map[int64]bool)
	for _, b := range c.Differs {
		if b >= p.geo.BlocksCount {
			return InPlace, fmt.Errorf("placement: inode %d: differing block %d outside the filesystem (%d blocks)", c.Ino, b, p.geo.BlocksCount)
		}
		if u := p.unitOf(b); !p.dirty.test(u) {
			clean[u] = true
		}
	}
	room := p.dirtyRoom()
	inPlace := uint64(len(clean))*p.span + beyond(c.Grow, room)
	afresh := beyond(c.Blocks, room)
	if afresh < inPlace {
		return Relocate, nil
	}
	return InPlace, nil
}

// dirtyRoom is the free blocks in dirty units: what can be written at no
// cost. The policy keeps the sum as units change (setFree, markDirty,
// rollback) rather than adding up every dirty unit for each changed file:
// that scan of all the image's units took 6% of estimate's CPU at 3 GiB.
func (p *Policy) dirtyRoom() uint64 {
	if checkRoom {
		if n := p.roomOfUnits(); n != p.room {
			panic(fmt.Sprintf("placement: room %d, the dirty units hold %d free blocks", p.room, n))
		}
	}
	return p.room
}

// checkRoom makes dirtyRoom check the kept sum against the units (the
// package's tests set it, so every test of the policy checks it).
var checkRoom bool

// roomOfUnits adds up the free blocks of the dirty units.
func (p *Policy) roomOfUnits() uint64 {
	var n uint64
	for u := p.dirtyFree.next(0, true); u >= 0; u = p.dirtyFree.next(u+1, true) {
		n += uint64(p.free[u])
	}
	return n
}

// beyond is how many of n new blocks do not fit in room free blocks of
// dirty units.
func beyond(n, room uint64) uint64 {
	if n <= room {
		return 0
	}
	return n - room
}
