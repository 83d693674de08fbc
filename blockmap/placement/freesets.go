package placement

import "sort"

// freeSets holds the clean units by their count of free blocks: for each
// count some unit has, the set of those units. Only counts in use have a
// set, so its size follows the units, not the number of blocks a unit
// holds (a write unit of 64 MiB over 1 KiB blocks has 65537 possible
// counts, of which a 64 MiB image uses one).
type freeSets struct {
	units int64
	sets  map[uint32]*countSet
	order []uint32 // the counts that have members, highest first
}

// countSet is the units with one free count.
type countSet struct {
	members bitset
	n       int64
}

// newFreeSets returns the sets with every unit at count 0.
func newFreeSets(units int64) *freeSets {
	f := &freeSets{units: units, sets: map[uint32]*countSet{}}
	if units > 0 {
		s := f.get(0)
		for i := range s.members.words {
			s.members.words[i] = ^uint64(0)
		}
		if r := units % wordBits; r != 0 {
			s.members.words[len(s.members.words)-1] = 1<<r - 1
		}
		s.n = units
	}
	return f
}

// get returns count n's set, creating it (empty) if needed.
func (f *freeSets) get(n uint32) *countSet {
	if s := f.sets[n]; s != nil {
		return s
	}
	s := &countSet{members: newBitset(f.units)}
	f.sets[n] = s
	i := sort.Search(len(f.order), func(i int) bool { return f.order[i] < n })
	f.order = append(f.order, 0)
	copy(f.order[i+1:], f.order[i:])
	f.order[i] = n
	return s
}

// add puts unit u in count n's set.
func (f *freeSets) add(n uint32, u int64) {
	s := f.get(n)
	if !s.members.test(u) {
		s.members.set(u)
		s.n++
	}
}

// remove takes unit u out of count n's set, dropping the set when it
// empties.
func (f *freeSets) remove(n uint32, u int64) {
	s := f.sets[n]
	if s == nil || !s.members.test(u) {
		return
	}
	s.members.clear(u)
	if s.n--; s.n > 0 {
		return
	}
	delete(f.sets, n)
	i := sort.Search(len(f.order), func(i int) bool { return f.order[i] <= n })
	f.order = append(f.order[:i], f.order[i+1:]...)
}

// count is the number of units with n free blocks.
func (f *freeSets) count(n uint32) int64 {
	if s := f.sets[n]; s != nil {
		return s.n
	}
	return 0
}

// members is the set of units with n free blocks, nil when there is none.
func (f *freeSets) members(n uint32) *bitset {
	if s := f.sets[n]; s != nil {
		return &s.members
	}
	return nil
}
