package blockmap

import (
	"cmp"
	"fmt"
	"slices"
)

// Range is the byte range [Off, Off+Len) of an image.
type Range struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

// End is the first byte after the range.
func (r Range) End() int64 { return r.Off + r.Len }

// Normalize returns the ranges sorted by offset with empty ranges dropped
// and overlapping or touching ranges merged, so the result is sorted and
// disjoint. The input is not modified.
func Normalize(rs []Range) []Range {
	out := make([]Range, 0, len(rs))
	for _, r := range rs {
		if r.Len > 0 {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Range) int {
		if c := cmp.Compare(a.Off, b.Off); c != 0 {
			return c
		}
		return cmp.Compare(a.Len, b.Len)
	})
	merged := out[:0]
	for _, r := range out {
		if k := len(merged) - 1; k >= 0 && r.Off <= merged[k].End() {
			merged[k].Len = max(merged[k].End(), r.End()) - merged[k].Off
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// UnitsOfRanges returns the ascending, distinct units that the ranges touch.
// It fails for a range outside the image.
func (m Model) UnitsOfRanges(rs []Range) ([]int64, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	var units []int64
	for _, r := range Normalize(rs) {
		if err := m.checkRange(r.Off, r.Len); err != nil {
			return nil, err
		}
		first, last, _ := m.UnitsOf(r.Off, r.Len)
		if k := len(units) - 1; k >= 0 && units[k] >= first {
			first = units[k] + 1
		}
		for u := first; u <= last; u++ {
			units = append(units, u)
		}
	}
	return units, nil
}

// EstimateRanges is the cost of writing every unit the ranges touch: exact
// when the ranges are the bytes that differ, an upper bound when they are a
// superset (e.g. whole changed blocks with W smaller than a block).
func (m Model) EstimateRanges(rs []Range) (Result, []int64, error) {
	units, err := m.UnitsOfRanges(rs)
	if err != nil {
		return Result{}, nil, err
	}
	return m.estimateSorted(units), units, nil
}

// BlockRanges turns block numbers of blockSize bytes into byte ranges of the
// model's image (the last block is cut at the image's end).
func (m Model) BlockRanges(blocks []int64, blockSize int64) ([]Range, error) {
	if blockSize <= 0 {
		return nil, fmt.Errorf("blockmap: block size %d: must be positive", blockSize)
	}
	rs := make([]Range, 0, len(blocks))
	for _, b := range blocks {
		if b < 0 || b >= ceilDiv(m.ImageSize, blockSize) {
			return nil, fmt.Errorf("blockmap: block %d of %d bytes: %w", b, blockSize, errRange)
		}
		off := b * blockSize
		rs = append(rs, Range{Off: off, Len: min(blockSize, m.ImageSize-off)})
	}
	return Normalize(rs), nil
}

// EstimateBlocks is EstimateRanges for changed blocks of blockSize bytes.
func (m Model) EstimateBlocks(blocks []int64, blockSize int64) (Result, []int64, error) {
	rs, err := m.BlockRanges(blocks, blockSize)
	if err != nil {
		return Result{}, nil, err
	}
	return m.EstimateRanges(rs)
}
