package blockmap

import (
	"encoding/json"
	"strings"
	"testing"
)

const (
	kib = int64(1) << 10
	mib = int64(1) << 20
)

func seq(from, n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = from + int64(i)
	}
	return out
}

func TestValidate(t *testing.T) {
	good := []Model{
		{WriteUnit: mib, Chunk: 4 * kib, ImageSize: 450 * mib},
		{WriteUnit: 1000, Chunk: 512 * kib, ImageSize: 0},
		{WriteUnit: 1, Chunk: 64 * kib, ImageSize: 1},
	}
	for _, m := range good {
		if err := m.Validate(); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	bad := []Model{
		{WriteUnit: 0, Chunk: 4 * kib, ImageSize: mib},
		{WriteUnit: -1, Chunk: 4 * kib, ImageSize: mib},
		{WriteUnit: mib, Chunk: 2 * kib, ImageSize: mib},
		{WriteUnit: mib, Chunk: 12 * kib, ImageSize: mib},
		{WriteUnit: mib, Chunk: mib, ImageSize: mib},
		{WriteUnit: mib, Chunk: 4 * kib, ImageSize: -1},
		{WriteUnit: 1, Chunk: 4 * kib, ImageSize: 1 << 40},
	}
	for _, m := range bad {
		if err := m.Validate(); err == nil || !strings.HasPrefix(err.Error(), "blockmap: ") {
			t.Errorf("%+v: got %v, want a blockmap error", m, err)
		}
	}
}

// TestMeasured is the case measured on a real dm-snapshot in cow-model.md.
func TestMeasured(t *testing.T) {
	m := Model{WriteUnit: mib, Chunk: 4 * kib, ImageSize: 450 * mib}
	// Any 85 units; scatter them to show placement does not matter when
	// W is a multiple of C.
	var units []int64
	for i := int64(0); i < 85; i++ {
		units = append(units, i*5)
	}
	r, err := m.Estimate(units)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		WriteUnit: mib, Chunk: 4 * kib, ImageSize: 450 * mib,
		Units: 450, UnitsChanged: 85, BytesWritten: 85 * mib,
		ChunksWritten: 21760, ChunksUsed: 21847, COWBytes: 21847 * 4 * kib,
		MetadataBytes: 87 * 4 * kib, SectorsAllocated: 174776, MetadataSectors: 696,
	}
	if r != want {
		t.Fatalf("got  %+v\nwant %+v", r, want)
	}
	if m.COWBytes(21760) != r.COWBytes {
		t.Errorf("COWBytes(21760) = %d, want %d", m.COWBytes(21760), r.COWBytes)
	}
	if !r.Fits(r.COWBytes, 0) || r.Fits(r.COWBytes, 1) || r.Fits(32*mib, 0) {
		t.Errorf("Fits is wrong for %d COW bytes", r.COWBytes)
	}
}

func TestEstimateHandComputed(t *testing.T) {
	cases := []struct {
		name                string
		m                   Model
		units               []int64
		n, used, written    int64
		metaSect, allocSect int64
	}{
		{"nothing written", Model{mib, 4 * kib, 450 * mib}, nil, 0, 2, 0, 16, 16},
		// 10 MiB + 6 KiB: unit 10 is 6 KiB long and covers 1.5 chunks.
		{"last short unit", Model{mib, 4 * kib, 10*mib + 6*kib}, []int64{10}, 2, 4, 6 * kib, 16, 32},
		{"last short unit and a full one", Model{mib, 4 * kib, 10*mib + 6*kib}, []int64{10, 9}, 258, 261, mib + 6*kib, 24, 261 * 8},
		// W < C: 1 KiB units in 4 KiB chunks; units 0,1 share chunk 0.
		{"W < C", Model{kib, 4 * kib, 16 * kib}, []int64{0, 1, 5, 15}, 3, 5, 4 * kib, 16, 40},
		{"W < C duplicates", Model{kib, 4 * kib, 16 * kib}, []int64{15, 0, 0, 1, 5, 15}, 3, 5, 4 * kib, 16, 40},
		// W = 6 KiB (not a multiple of a 4 KiB block): unit 0 covers
		// chunks 0-1, unit 1 chunks 1-2, unit 3 chunks 4-5.
		{"W 6K adjacent", Model{6 * kib, 4 * kib, 24 * kib}, []int64{0, 1}, 3, 5, 12 * kib, 16, 40},
		{"W 6K apart", Model{6 * kib, 4 * kib, 24 * kib}, []int64{0, 3}, 4, 6, 12 * kib, 16, 48},
		{"W 6K middle", Model{6 * kib, 4 * kib, 24 * kib}, []int64{1}, 2, 4, 6 * kib, 16, 32},
		// W = 10000 (not a multiple of C), image 30000: unit 0 = chunks
		// 0-2, unit 1 = 2-4, unit 2 = 4-7 (the last chunk is short).
		{"W 10000 ends", Model{10000, 4 * kib, 30000}, []int64{0, 2}, 7, 9, 20000, 16, 72},
		{"W 10000 all", Model{10000, 4 * kib, 30000}, []int64{0, 1, 2}, 8, 10, 30000, 16, 80},
		{"W 10000 middle", Model{10000, 4 * kib, 30000}, []int64{1}, 3, 5, 10000, 16, 40},
		// C = 64 KiB: E = 4096, so 8192 chunks need 2 metadata chunks.
		{"metadata chunks", Model{mib, 64 * kib, 512 * mib}, seq(0, 512), 8192, 8196, 512 * mib, 4 * 128, 8196 * 128},
		// Exactly one short of a metadata chunk: E = 256 at C = 4 KiB.
		{"E minus one", Model{4 * kib, 4 * kib, 4 * mib}, seq(0, 255), 255, 257, 255 * 4 * kib, 16, 257 * 8},
		{"E", Model{4 * kib, 4 * kib, 4 * mib}, seq(0, 256), 256, 259, 256 * 4 * kib, 24, 259 * 8},
	}
	for _, c := range cases {
		r, err := c.m.Estimate(c.units)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.ChunksWritten != c.n || r.ChunksUsed != c.used || r.BytesWritten != c.written ||
			r.MetadataSectors != c.metaSect || r.SectorsAllocated != c.allocSect ||
			r.COWBytes != c.used*c.m.Chunk || r.COWBytes != r.SectorsAllocated*SectorSize {
			t.Errorf("%s: got %+v; want N=%d used=%d written=%d meta=%d alloc=%d",
				c.name, r, c.n, c.used, c.written, c.metaSect, c.allocSect)
		}
	}
}

func TestEstimateRejects(t *testing.T) {
	m := Model{mib, 4 * kib, 10 * mib}
	for _, units := range [][]int64{{10}, {-1}, {0, 11}} {
		if _, err := m.Estimate(units); err == nil {
			t.Errorf("units %v: no error", units)
		}
	}
	if _, err := (Model{0, 4 * kib, 10 * mib}).Estimate(nil); err == nil {
		t.Error("invalid model: no error")
	}
}

func TestResultJSON(t *testing.T) {
	r, err := Model{mib, 4 * kib, 450 * mib}.Estimate(seq(0, 85))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"units_changed":85`, `"chunks_written":21760`, `"cow_bytes":89485312`,
		`"sectors_allocated":174776`, `"metadata_sectors":696`, `"write_unit":1048576`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestRanges(t *testing.T) {
	got := Normalize([]Range{{10, 5}, {0, 0}, {3, 4}, {7, 1}, {20, 2}, {12, 1}})
	want := []Range{{3, 5}, {10, 5}, {20, 2}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	m := Model{1000, 4 * kib, 10000}
	units, err := m.UnitsOfRanges([]Range{{999, 2}, {1500, 100}, {9999, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 || units[0] != 0 || units[1] != 1 || units[2] != 9 {
		t.Fatalf("units %v", units)
	}
	if _, err := m.UnitsOfRanges([]Range{{9999, 2}}); err == nil {
		t.Error("range past the end: no error")
	}
}

func TestEstimateBlocks(t *testing.T) {
	// 1 KiB blocks, W = 6 KiB, image 20 KiB + 512: block 20 is short.
	m := Model{WriteUnit: 6 * kib, Chunk: 4 * kib, ImageSize: 20*kib + 512}
	r, units, err := m.EstimateBlocks([]int64{20, 5, 6, 5}, kib)
	if err != nil {
		t.Fatal(err)
	}
	// Block 5 is unit 0 (chunks 0-1), block 6 unit 1 (chunks 1-2), block 20
	// unit 3 (bytes 18K..20.5K, chunks 4-5).
	if len(units) != 3 || units[0] != 0 || units[1] != 1 || units[2] != 3 || r.ChunksWritten != 5 ||
		r.BytesWritten != 12*kib+2*kib+512 {
		t.Fatalf("units %v, result %+v", units, r)
	}
	if _, _, err := m.EstimateBlocks([]int64{21}, kib); err == nil {
		t.Error("block past the end: no error")
	}
	if _, _, err := m.EstimateBlocks([]int64{0}, 0); err == nil {
		t.Error("zero block size: no error")
	}
}
