package blockmap

import "math/bits"

// bitset is a fixed-size set of small non-negative integers. Callers check
// bounds; indexes are always within [0, size).
type bitset struct {
	words []uint64
	size  int64
}

const wordBits = 64

func newBitset(size int64) bitset {
	return bitset{words: make([]uint64, ceilDiv(size, wordBits)), size: size}
}

func (b *bitset) test(i int64) bool { return b.words[i/wordBits]&(1<<(i%wordBits)) != 0 }

// set sets bit i and reports whether it was clear before.
func (b *bitset) set(i int64) bool {
	w, m := i/wordBits, uint64(1)<<(i%wordBits)
	was := b.words[w]&m != 0
	b.words[w] |= m
	return !was
}

// next returns the first index >= from whose bit equals want, or -1.
func (b *bitset) next(from int64, want bool) int64 {
	if from < 0 {
		from = 0
	}
	for w := from / wordBits; w < int64(len(b.words)); w++ {
		word := b.words[w]
		if !want {
			word = ^word
		}
		if w == from/wordBits {
			word &= ^uint64(0) << (from % wordBits)
		}
		if word != 0 {
			i := w*wordBits + int64(bits.TrailingZeros64(word))
			if i >= b.size {
				return -1
			}
			return i
		}
	}
	return -1
}
