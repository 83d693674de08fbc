package extent

import "fmt"

// Normalize checks a file's mapping list and returns the extents ext4 stores
// for it: runs must be sorted by Logical, non-empty and non-overlapping, and
// map physical blocks inside [opt.FirstDataBlock, opt.BlocksCount).
// Logically and physically adjacent runs with the same Uninit flag are
// merged, and runs are cut greedily at MaxInitLen (MaxUninitLen for uninit
// runs), as the kernel merges them.
func Normalize(maps []Mapping, opt Options) ([]Mapping, error) {
	out := make([]Mapping, 0, len(maps))
	var cur Mapping
	var curLen uint64 // cur's length before cutting, may exceed 32 bits
	have := false
	next := uint64(0)
	emit := func() {
		limit := uint64(MaxInitLen)
		if cur.Uninit {
			limit = MaxUninitLen
		}
		l, p := uint64(cur.Logical), cur.Physical
		for curLen > 0 {
			n := min(curLen, limit)
			out = append(out, Mapping{Logical: uint32(l), Physical: p, Len: uint32(n), Uninit: cur.Uninit})
			l, p, curLen = l+n, p+n, curLen-n
		}
	}
	for i, m := range maps {
		if m.Len == 0 {
			return nil, fmt.Errorf("extent: inode %d: mapping %d at logical %d has length 0", opt.Ino, i, m.Logical)
		}
		if uint64(m.Logical) < next {
			return nil, fmt.Errorf("extent: inode %d: mapping %d at logical %d overlaps or precedes logical %d", opt.Ino, i, m.Logical, next)
		}
		if m.End() > maxLogicalEnd {
			return nil, fmt.Errorf("extent: inode %d: mapping %d ends past logical block 2^32", opt.Ino, i)
		}
		if m.Physical < opt.FirstDataBlock || m.Physical >= opt.BlocksCount || uint64(m.Len) > opt.BlocksCount-m.Physical || m.Physical+uint64(m.Len) > MaxPhysical {
			return nil, fmt.Errorf("extent: inode %d: mapping %d maps physical [%d, %d) outside [%d, %d)", opt.Ino, i, m.Physical, m.Physical+uint64(m.Len), opt.FirstDataBlock, opt.BlocksCount)
		}
		next = m.End()
		if have && cur.Uninit == m.Uninit && uint64(cur.Logical)+curLen == uint64(m.Logical) && cur.Physical+curLen == m.Physical {
			curLen += uint64(m.Len)
			continue
		}
		if have {
			emit()
		}
		cur, curLen, have = m, uint64(m.Len), true
	}
	if have {
		emit()
	}
	return out, nil
}
