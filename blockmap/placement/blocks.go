package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// Blocks implements fs.Placement: see the package doc for the order.
func (p *Policy) Blocks(v fs.SpaceView, req fs.BlockRequest) ([]fs.Extent, error) {
	if err := p.setup(v.Layout()); err != nil {
		return nil, err
	}
	if err := p.refresh(v); err != nil {
		return nil, err
	}
	if req.N == 0 {
		return nil, nil
	}
	if free := v.FreeBlocks(); free < req.N {
		return nil, &fs.SpaceError{Need: req.N, Free: free}
	}
	// The default rule's answer is the yardstick (see preferDefault), so
	// no request opens more clean units than under the default rule.
	def, derr := fs.DefaultPlacement{}.Blocks(v, req)
	defCost, defLeft := p.cleanUnits(def)
	p.undo = make(undoLog)
	a := allocation{p: p, v: v, need: req.N, cursor: p.goal(req)}
	err := a.run()
	if err == nil && a.need > 0 {
		err = &fs.SpaceError{Need: req.N, Free: req.N - a.need}
	}
	cost, left := p.opened()
	if err != nil || derr == nil && p.preferDefault(defCost, cost, defLeft, left, len(def), len(a.out)) {
		p.rollback()
		if derr != nil {
			return nil, err
		}
		p.adopt(def)
		p.notePending(def)
		return def, nil
	}
	p.undo = nil
	p.notePending(a.out)
	return a.out, nil
}

// roomSpan is the unit size, in blocks, from which the free room an answer
// leaves in the units it opens decides between equally costly answers.
// Below it (e.g. 4 KiB units of 1 KiB blocks) fewer extents decide: on
// generated security updates (4 seeds, 1 and 4 KiB blocks) that gave 10%
// fewer units at W = 4 KiB, and room gave 1-5% fewer at W = 1 MiB.
const roomSpan = 16

// preferDefault reports whether the default rule's answer beats the
// policy's: it opens fewer clean units, or as many and (for big units)
// leaves more room in them, or else ties and needs no more extents.
func (p *Policy) preferDefault(defCost, cost int, defLeft, left uint64, defExt, ext int) bool {
	switch {
	case defCost != cost:
		return defCost < cost
	case p.span >= roomSpan && defLeft != left:
		return defLeft > left
	}
	return defExt <= ext
}

// goal is where a request would like its blocks: its goal block, else the
// first block of its inode's group, like fs.DefaultPlacement.
func (p *Policy) goal(req fs.BlockRequest) uint64 {
	goal := req.Goal
	if goal == 0 && req.Ino != 0 && req.Ino <= p.geo.InodesCount {
		g, _ := p.geo.GroupOfInode(req.Ino)
		goal = p.geo.GroupFirstBlock(g)
	}
	if goal < p.geo.FirstDataBlock || goal >= p.geo.BlocksCount {
		goal = p.geo.FirstDataBlock
	}
	return goal
}

// allocation is one Blocks request being filled.
type allocation struct {
	p      *Policy
	v      fs.SpaceView
	need   uint64
	cursor uint64 // where the next search starts: the goal, then the end of the last run taken
	ranRun bool   // the search for one dense run has been made
	out    []fs.Extent
}

// run fills the request: dirty units first, then a dense run of free
// units, then the fullest free units one by one. Every step takes a block
// or dirties a clean unit, so the loop ends within units+N steps.
func (a *allocation) run() error {
	p := a.p
	for steps := int64(0); a.need > 0; steps++ {
		if steps > 2*p.units+int64(a.need)+1 {
			return fmt.Errorf("placement: no progress placing %d blocks after %d steps", a.need, steps)
		}
		if u := p.dirtyFree.nextWrap(p.unitOf(a.cursor)); u >= 0 {
			if err := a.take(u); err != nil {
				return err
			}
			continue
		}
		u, ok := a.openUnits()
		if !ok {
			return nil // nothing free left: the caller reports the shortfall
		}
		a.cursor = max(uint64(u)*p.span, p.geo.FirstDataBlock)
	}
	return nil
}

// openUnits dirties clean units for the rest of the request: the first
// time, a run of wholly free units holding all of it if there is one
// (scattered leftovers must not split a request that fits whole); else
// the unit with the most free blocks, nearest the cursor among equals. It
// returns the first unit it opened.
func (a *allocation) openUnits() (int64, bool) {
	p := a.p
	k := int64((a.need + p.span - 1) / p.span)
	if full := p.byFree.members(uint32(p.span)); !a.ranRun && full != nil && p.byFree.count(uint32(p.span)) >= k {
		a.ranRun = true
		if s := full.runOf(p.unitOf(a.cursor), k); s >= 0 {
			for u := s; u < s+k; u++ {
				p.markDirty(u)
			}
			return s, true
		}
	}
	for _, n := range p.byFree.order {
		if n == 0 {
			break
		}
		if u := p.byFree.members(n).nextWrap(p.unitOf(a.cursor)); u >= 0 {
			p.markDirty(u)
			return u, true
		}
	}
	return 0, false
}

// take hands out free blocks of dirty unit u, from the cursor if it lies
// in u (then the part before it), else from u's start, up to the need. A
// unit whose free blocks run out (or turn out fewer than counted) is left
// with none.
func (a *allocation) take(u int64) error {
	p := a.p
	first, end := p.unitBlocks(u)
	mid := first
	if a.cursor > first && a.cursor < end {
		mid = a.cursor
	}
	taken := uint64(0)
	for _, r := range [2][2]uint64{{mid, end}, {first, mid}} {
		n, err := a.takeRange(r[0], r[1])
		if err != nil {
			return err
		}
		taken += n
	}
	left := uint32(0)
	if a.need == 0 && uint64(p.free[u]) > taken {
		left = p.free[u] - uint32(taken)
	}
	p.setFree(u, left)
	return nil
}

// takeRange hands out free blocks in [from, end), up to the need, and
// returns how many.
func (a *allocation) takeRange(from, end uint64) (uint64, error) {
	taken := uint64(0)
	for from < end && a.need > 0 {
		s, n, err := a.v.NextFreeRun(from)
		if err != nil {
			return taken, fmt.Errorf("placement: free run from block %d: %w", from, err)
		}
		if n == 0 || s >= end || s < from {
			break
		}
		n = min(n, end-s, a.need)
		a.add(s, n)
		a.need -= n
		taken += n
		from = s + n
	}
	return taken, nil
}

// add appends blocks [s, s+n) to the answer, merging with the last extent
// when they follow it, and moves the cursor past them.
func (a *allocation) add(s, n uint64) {
	if k := len(a.out); k > 0 && a.out[k-1].Start+a.out[k-1].Len == s {
		a.out[k-1].Len += n
	} else {
		a.out = append(a.out, fs.Extent{Start: s, Len: n})
	}
	a.cursor = s + n
}

// notePending accounts for an answer the FS is about to take: the groups'
// free counts drop, and their bitmaps, descriptor blocks and the
// superblock will be written.
func (p *Policy) notePending(out []fs.Extent) {
	for _, e := range out {
		for blk := e.Start; blk < e.Start+e.Len; {
			g, i, ok := p.geo.GroupOfBlock(blk)
			if !ok {
				break
			}
			n := min(e.Start+e.Len-blk, uint64(p.geo.GroupBlocks(g)-i))
			if p.groupFree[g] != unknownFree {
				p.groupFree[g] -= uint32(min(n, uint64(p.groupFree[g])))
			}
			p.noteGroupMeta(g, false)
			blk += n
		}
	}
}

// noteGroupMeta marks the metadata an allocation in group g makes the FS
// write: the bitmap (block or inode), the descriptor block, the superblock.
func (p *Policy) noteGroupMeta(g uint32, inode bool) {
	p.markBlockDirty(disk.SuperblockOffset / uint64(p.geo.BlockSize))
	if p.layout == nil {
		return
	}
	if inode {
		p.markBlockDirty(p.layout.InodeBitmap(g))
	} else {
		p.markBlockDirty(p.layout.BlockBitmap(g))
	}
	p.markBlockDirty(p.layout.DescBlock(g))
}
