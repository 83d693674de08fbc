package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// FileChange describes a regular file that stays in the image but whose
// content changes, as the sync sees it before writing anything.
type FileChange struct {
	Ino uint32
	// Differs lists the physical blocks of the current content whose new
	// bytes differ (what an in-place overwrite would write).
	Differs []uint64
	// Grow is the number of blocks the new content needs beyond those it
	// can overwrite in place (0 when it shrinks or keeps its size).
	Grow uint64
	// Blocks is the number of blocks the whole new content needs when
	// written afresh.
	Blocks uint64
}

// Rewrite says how to write a FileChange.
type Rewrite int

const (
	// InPlace overwrites the differing blocks where they lie.
	InPlace Rewrite = iota
	// Relocate writes the whole content afresh where the policy puts it
	// and frees the old blocks (which costs only bitmap writes).
	Relocate
)

func (r Rewrite) String() string {
	if r == Relocate {
		return "relocate"
	}
	return "in place"
}

// Rewriter is the hook the sync can ask before writing a changed file:
// *Policy implements it. It changes nothing; the writes that follow go
// through the FS and its Placement as usual.
type Rewriter interface {
	Rewrite(v fs.SpaceView, c FileChange) (Rewrite, error)
}

var _ Rewriter = (*Policy)(nil)

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
