package blockmap

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

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

// FuzzCostOnDevice builds a base, a new image and a device image from the
// input and checks that the cost from chunk hashes equals the byte diff:
// of base and new for the release, of device and new for the device.
func FuzzCostOnDevice(f *testing.F) {
	f.Add(uint8(0), uint16(3000), []byte{1, 2, 3}, []byte{9})
	f.Add(uint8(3), uint16(40000), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200}, []byte{})
	f.Fuzz(func(t *testing.T, wShift uint8, size uint16, edits, drift []byte) {
		const chunk = 4096
		w := int64(512) << (wShift % 8)
		n := int(size)
		base := make([]byte, n)
		for i := range base {
			base[i] = byte(i * 7)
		}
		apply := func(img []byte, e []byte) []byte {
			out := append([]byte(nil), img...)
			for i := 0; i+2 < len(e) && n > 0; i += 3 {
				out[(int(e[i])<<8|int(e[i+1]))*7%n] = e[i+2]
			}
			return out
		}
		next, device := apply(base, edits), apply(base, drift)
		baseSums, nextSums, deviceSums := hashAll(base, chunk), hashAll(next, chunk), hashAll(device, chunk)
		var changed []ChangedChunk
		for i := range baseSums {
			if baseSums[i] != nextSums[i] {
				changed = append(changed, ChangedChunk{Index: int64(i), Hash: nextSums[i]})
			}
		}
		m := Model{WriteUnit: w, Chunk: chunk, ImageSize: int64(n)}
		dc, err := m.CostOnDevice(baseSums, changed, deviceSums)
		if err != nil {
			t.Fatal(err)
		}
		rel, _, err := Diff(bytesReader(base), bytesReader(next), int64(n), m)
		if err != nil {
			t.Fatal(err)
		}
		dev, _, err := Diff(bytesReader(device), bytesReader(next), int64(n), m)
		if err != nil {
			t.Fatal(err)
		}
		if dc.Release.COWBytes != rel.COWBytes || dc.Result.COWBytes != dev.COWBytes {
			t.Fatalf("W=%d: cost %+v, release diff %d, device diff %d", w, dc, rel.COWBytes, dev.COWBytes)
		}
	})
}

func hashAll(b []byte, chunk int) []ChunkHash {
	h, _ := NewChunkHasher(int64(chunk))
	h.Write(b)
	return h.Sums()
}
