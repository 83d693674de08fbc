package blockmap

import (
	"encoding/binary"
	"testing"
)

// FuzzEstimate drives the model with arbitrary parameters and units: it
// must never panic, and whenever it accepts them, Estimate, EstimateRanges
// and UnitMap must agree and N must lie between the obvious bounds.
func FuzzEstimate(f *testing.F) {
	f.Add(int64(mib), int64(4*kib), int64(450*mib), []byte{0, 0, 0, 5, 1, 0, 0, 0})
	f.Add(int64(1000), int64(4*kib), int64(30000), []byte{2, 0, 0, 0})
	f.Add(int64(0), int64(3), int64(-1), []byte{})
	f.Fuzz(func(t *testing.T, w, c, size int64, raw []byte) {
		m := Model{WriteUnit: w, Chunk: c, ImageSize: size}
		_ = m.Units()
		_ = m.Chunks()
		_ = m.COWBytes(5)
		_, _, _ = m.UnitsOf(3, 7)
		var units []int64
		for i := 0; i+4 <= len(raw) && i < 4*64; i += 4 {
			units = append(units, int64(binary.LittleEndian.Uint32(raw[i:])))
		}
		r, err := m.Estimate(units)
		if err != nil {
			return
		}
		if m.Units() > 1<<20 {
			return // keep the map cheap
		}
		um, err := NewUnitMap(m)
		if err != nil {
			t.Fatalf("Estimate accepted %+v but NewUnitMap did not: %v", m, err)
		}
		var rs []Range
		for _, u := range units {
			if err := um.Mark(u); err != nil {
				t.Fatal(err)
			}
			off, n := m.UnitSpan(u)
			rs = append(rs, Range{off, n})
		}
		if um.Result() != r {
			t.Fatalf("UnitMap %+v, Estimate %+v", um.Result(), r)
		}
		r2, _, err := m.EstimateRanges(rs)
		if err != nil || r2 != r {
			t.Fatalf("EstimateRanges %+v %v, Estimate %+v", r2, err, r)
		}
		if r.ChunksWritten > m.Chunks() || r.ChunksWritten < r.BytesWritten/m.Chunk ||
			(r.UnitsChanged > 0) != (r.ChunksWritten > 0) || r.COWBytes != m.COWBytes(r.ChunksWritten) {
			t.Fatalf("implausible %+v for %+v", r, m)
		}
	})
}
