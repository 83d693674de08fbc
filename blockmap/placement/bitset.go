package placement

import "math/bits"

// bitset is a fixed-size set of unit numbers; callers keep indexes in
// [0, size).
type bitset struct {
	words []uint64
	size  int64
}

const wordBits = 64

func newBitset(size int64) bitset {
	return bitset{words: make([]uint64, (size+wordBits-1)/wordBits), size: size}
}

func (b *bitset) test(i int64) bool { return b.words[i/wordBits]&(1<<(i%wordBits)) != 0 }
func (b *bitset) set(i int64)       { b.words[i/wordBits] |= 1 << (i % wordBits) }
func (b *bitset) clear(i int64)     { b.words[i/wordBits] &^= 1 << (i % wordBits) }

// next returns the first index >= from whose bit equals want, or -1.
func (b *bitset) next(from int64, want bool) int64 {
	from = max(from, 0)
	for w := from / wordBits; w < int64(len(b.words)); w++ {
		word := b.words[w]
		if !want {
			word = ^word
		}
		if w == from/wordBits {
			word &= ^uint64(0) << (from % wordBits)
		}
		if word != 0 {
			if i := w*wordBits + int64(bits.TrailingZeros64(word)); i < b.size {
				return i
			}
			return -1
		}
	}
	return -1
}

// nextWrap returns the first set index >= from, else the first set index
// overall, or -1 when the set is empty.
func (b *bitset) nextWrap(from int64) int64 {
	if i := b.next(from, true); i >= 0 {
		return i
	}
	return b.next(0, true)
}

// runOf returns the start of the first run of k consecutive set indexes
// starting at or after from, else the first such run overall, or -1.
func (b *bitset) runOf(from, k int64) int64 {
	for _, lo := range []int64{from, 0} {
		for s := b.next(lo, true); s >= 0; {
			e := b.next(s, false)
			if e < 0 {
				e = b.size
			}
			if e-s >= k {
				return s
			}
			s = b.next(e, true)
		}
	}
	return -1
}
