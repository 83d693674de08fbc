package placement

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"

// unitState is what the policy knew of a unit before a tentative answer.
type unitState struct {
	free  uint32
	dirty bool
}

// undoLog records the units a tentative answer changed, so the policy
// can take the answer back.
type undoLog map[int64]unitState

// note saves unit u's state before its first change under the undo log.
func (p *Policy) note(u int64) {
	if p.undo == nil {
		return
	}
	if _, ok := p.undo[u]; !ok {
		p.undo[u] = unitState{free: p.free[u], dirty: p.dirty.test(u)}
	}
}

// opened counts the units the tentative answer made dirty and the free
// blocks it left in them (room for later requests at no cost).
func (p *Policy) opened() (n int, left uint64) {
	for u, st := range p.undo {
		if !st.dirty && p.dirty.test(u) {
			n++
			left += uint64(p.free[u])
		}
	}
	return n, left
}

// rollback restores every unit the undo log saw and ends it.
func (p *Policy) rollback() {
	for u, st := range p.undo {
		if p.dirty.test(u) {
			p.dirtyFree.clear(u)
			p.room -= uint64(p.free[u])
		} else {
			p.byFree.remove(p.free[u], u)
		}
		p.free[u] = st.free
		if st.dirty {
			p.dirty.set(u)
			p.room += uint64(st.free)
			if st.free > 0 {
				p.dirtyFree.set(u)
			}
		} else {
			p.dirty.clear(u)
			p.byFree.add(st.free, u)
		}
	}
	p.undo = nil
}

// cleanUnits counts the clean units an answer would write into and the
// free blocks it would leave in them.
func (p *Policy) cleanUnits(ext []fs.Extent) (int, uint64) {
	taken := make(map[int64]uint64)
	for _, e := range ext {
		end := min(e.Start+e.Len, p.geo.BlocksCount)
		for blk := e.Start; blk < end; {
			u := p.unitOf(blk)
			ue := min(uint64(u+1)*p.span, end)
			if !p.dirty.test(u) {
				taken[u] += ue - blk
			}
			blk = ue
		}
	}
	left := uint64(0)
	for u, n := range taken {
		left += uint64(p.free[u]) - min(n, uint64(p.free[u]))
	}
	return len(taken), left
}

// adopt accounts for an answer the policy did not build itself: its units
// become dirty and lose the blocks it takes.
func (p *Policy) adopt(ext []fs.Extent) {
	for _, e := range ext {
		end := min(e.Start+e.Len, p.geo.BlocksCount)
		for blk := e.Start; blk < end; {
			u := p.unitOf(blk)
			ue := min(uint64(u+1)*p.span, end)
			p.markDirty(u)
			n := uint32(ue - blk)
			p.setFree(u, p.free[u]-min(n, p.free[u]))
			blk = ue
		}
	}
}
