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

// Rewrite implements Rewriter by comparing predicted costs in units: in
// place, the clean units holding differing blocks plus the units new tail
// blocks would open; afresh, the units the whole content would open once
// the free room of dirty units is used. Ties stay in place (no extent or
// fragmentation churn).
func (p *Policy) Rewrite(v fs.SpaceView, c FileChange) (Rewrite, error) {
	if err := p.setup(v.Geometry()); err != nil {
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
	inPlace := uint64(len(clean)) + p.unitsFor(c.Grow, room)
	afresh := p.unitsFor(c.Blocks, room)
	if afresh < inPlace {
		return Relocate, nil
	}
	return InPlace, nil
}

// dirtyRoom is the free blocks in dirty units: what can be written at no
// cost.
func (p *Policy) dirtyRoom() uint64 {
	var n uint64
	for u := p.dirtyFree.next(0, true); u >= 0; u = p.dirtyFree.next(u+1, true) {
		n += uint64(p.free[u])
	}
	return n
}

// unitsFor estimates the clean units n new blocks open after room free
// blocks of dirty units are used: whole free units, densely.
func (p *Policy) unitsFor(n, room uint64) uint64 {
	if n <= room {
		return 0
	}
	return (n - room + p.span - 1) / p.span
}
