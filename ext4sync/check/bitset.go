package check

// bitset is a fixed set of bits, one per block or inode: the checker's
// whole per-block state, so memory stays one bit per block.
type bitset []uint64

func newBitset(n uint64) bitset { return make(bitset, (n+63)/64) }

func (b bitset) test(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }

// set sets bit i and reports whether it was already set.
func (b bitset) set(i uint64) bool {
	w, m := i/64, uint64(1)<<(i%64)
	was := b[w]&m != 0
	b[w] |= m
	return was
}

// setRange sets bits [i, i+n) and returns the first of them that was
// already set, or -1.
func (b bitset) setRange(i, n uint64) int64 {
	first := int64(-1)
	for end := i + n; i < end; {
		w, off := i/64, i%64
		k := min(64-off, end-i)
		m := ^uint64(0) >> (64 - k) << off
		if x := b[w] & m; x != 0 && first < 0 {
			for j := off; j < off+k; j++ {
				if x&(1<<j) != 0 {
					first = int64(w*64 + j)
					break
				}
			}
		}
		b[w] |= m
		i += k
	}
	return first
}

// bitOf reports bit i of an on-disk bitmap block (little-endian bit order).
func bitOf(bm []byte, i uint32) bool { return bm[i/8]&(1<<(i%8)) != 0 }
