package blockmap

// UnitMap tracks which write units of an image are dirty (will be written
// by the update) and which snapshot chunks those units cover, so it can say
// what one more write would cost: nothing in a dirty unit, otherwise the
// chunks the newly dirtied units add. A placement policy asks it; it holds
// no policy itself.
type UnitMap struct {
	m       Model
	dirty   bitset // by unit
	chunks  bitset // by chunk: covered by a dirty unit
	nDirty  int64
	nChunks int64
	written int64 // bytes of the dirty units
}

// NewUnitMap returns a map of the model's image with every unit clean.
func NewUnitMap(m Model) (*UnitMap, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &UnitMap{m: m, dirty: newBitset(m.Units()), chunks: newBitset(m.Chunks())}, nil
}

// Model returns the model the map was built for.
func (um *UnitMap) Model() Model { return um.m }

// Mark makes unit u dirty. Marking a dirty unit is a no-op.
func (um *UnitMap) Mark(u int64) error {
	if err := um.m.checkUnit(u); err != nil {
		return err
	}
	um.mark(u)
	return nil
}

func (um *UnitMap) mark(u int64) {
	if !um.dirty.set(u) {
		return
	}
	um.nDirty++
	_, n := um.m.UnitSpan(u)
	um.written += n
	first, last := um.m.chunksOfUnit(u)
	for c := first; c <= last; c++ {
		if um.chunks.set(c) {
			um.nChunks++
		}
	}
}

// MarkRange makes every unit that the byte range [off, off+n) touches dirty.
func (um *UnitMap) MarkRange(off, n int64) error {
	if err := um.m.checkRange(off, n); err != nil {
		return err
	}
	first, last, ok := um.m.UnitsOf(off, n)
	for u := first; ok && u <= last; u++ {
		um.mark(u)
	}
	return nil
}

// IsDirty reports whether unit u is dirty; units outside the image are not.
func (um *UnitMap) IsDirty(u int64) bool {
	return u >= 0 && u < um.m.Units() && um.dirty.test(u)
}

// DirtyCount and CleanCount count the units in each state.
func (um *UnitMap) DirtyCount() int64 { return um.nDirty }
func (um *UnitMap) CleanCount() int64 { return um.m.Units() - um.nDirty }

// NextDirty returns the first dirty unit >= from, or -1.
func (um *UnitMap) NextDirty(from int64) int64 { return um.dirty.next(from, true) }

// NextClean returns the first clean unit >= from, or -1.
func (um *UnitMap) NextClean(from int64) int64 { return um.dirty.next(from, false) }

// DirtyUnits returns the dirty units in ascending order.
func (um *UnitMap) DirtyUnits() []int64 {
	out := make([]int64, 0, um.nDirty)
	for u := um.NextDirty(0); u >= 0; u = um.NextDirty(u + 1) {
		out = append(out, u)
	}
	return out
}

// Cost is what writing a byte range would add to the update: the clean
// units it touches and the chunks those units would newly cover.
type Cost struct {
	Units  int64 `json:"units"`
	Chunks int64 `json:"chunks"`
}

// RangeCost returns the cost of writing [off, off+n) given the units already
// dirty: zero when every unit it touches is dirty.
func (um *UnitMap) RangeCost(off, n int64) (Cost, error) {
	if err := um.m.checkRange(off, n); err != nil {
		return Cost{}, err
	}
	var c Cost
	first, last, ok := um.m.UnitsOf(off, n)
	next := int64(0) // first chunk not yet counted for this range
	for u := first; ok && u <= last; u++ {
		if um.dirty.test(u) {
			continue
		}
		c.Units++
		cf, cl := um.m.chunksOfUnit(u)
		for ch := max(cf, next); ch <= cl; ch++ {
			if !um.chunks.test(ch) {
				c.Chunks++
			}
		}
		next = cl + 1
	}
	return c, nil
}

// UnitCost is the cost of writing anything into unit u: zero if u is dirty.
func (um *UnitMap) UnitCost(u int64) (Cost, error) {
	if err := um.m.checkUnit(u); err != nil {
		return Cost{}, err
	}
	off, n := um.m.UnitSpan(u)
	return um.RangeCost(off, n)
}

// Result is the predicted cost of writing every dirty unit.
func (um *UnitMap) Result() Result {
	return um.m.result(um.nDirty, um.written, um.nChunks)
}
