package blockmap

import "testing"

func TestUnitMapCost(t *testing.T) {
	// W = 1 KiB < C = 4 KiB: units 0-3 share chunk 0.
	um, err := NewUnitMap(Model{WriteUnit: kib, Chunk: 4 * kib, ImageSize: 16*kib + 100})
	if err != nil {
		t.Fatal(err)
	}
	if um.CleanCount() != 17 || um.DirtyCount() != 0 {
		t.Fatalf("fresh map: %d clean, %d dirty", um.CleanCount(), um.DirtyCount())
	}
	c, err := um.RangeCost(100, 2000) // units 0-2, chunk 0
	if err != nil || c != (Cost{Units: 3, Chunks: 1}) {
		t.Fatalf("cost before marking: %+v %v", c, err)
	}
	if err := um.MarkRange(1500, 10); err != nil { // unit 1
		t.Fatal(err)
	}
	if c, _ := um.RangeCost(1024, 1024); c != (Cost{}) {
		t.Errorf("dirty unit: cost %+v, want zero", c)
	}
	if c, _ := um.UnitCost(3); c != (Cost{Units: 1, Chunks: 0}) {
		t.Errorf("unit sharing a written chunk: cost %+v, want 1 unit, 0 chunks", c)
	}
	if c, _ := um.RangeCost(3*kib, 2*kib); c != (Cost{Units: 2, Chunks: 1}) {
		t.Errorf("units 3-4: cost %+v, want 2 units, 1 chunk", c)
	}
	if c, _ := um.UnitCost(16); c != (Cost{Units: 1, Chunks: 1}) {
		t.Errorf("short last unit: cost %+v", c)
	}
	if err := um.Mark(16); err != nil {
		t.Fatal(err)
	}
	if err := um.Mark(1); err != nil { // again: a no-op
		t.Fatal(err)
	}
	if got := um.DirtyUnits(); !equalUnits(got, []int64{1, 16}) {
		t.Errorf("dirty units %v", got)
	}
	if um.NextDirty(2) != 16 || um.NextClean(1) != 2 || um.NextDirty(17) != -1 || um.NextClean(16) != -1 {
		t.Errorf("next: dirty(2)=%d clean(1)=%d dirty(17)=%d clean(16)=%d",
			um.NextDirty(2), um.NextClean(1), um.NextDirty(17), um.NextClean(16))
	}
	r := um.Result()
	if r.UnitsChanged != 2 || r.ChunksWritten != 2 || r.BytesWritten != kib+100 {
		t.Errorf("result %+v", r)
	}
	if !um.IsDirty(16) || um.IsDirty(0) || um.IsDirty(17) || um.IsDirty(-1) {
		t.Error("IsDirty wrong")
	}
	if err := um.Mark(17); err == nil {
		t.Error("unit past the end: no error")
	}
	if err := um.MarkRange(16*kib, 101); err == nil {
		t.Error("range past the end: no error")
	}
	if _, err := um.RangeCost(-1, 2); err == nil {
		t.Error("negative offset: no error")
	}
}

func TestUnitMapNextAcrossWords(t *testing.T) {
	um, err := NewUnitMap(Model{WriteUnit: 4 * kib, Chunk: 4 * kib, ImageSize: 200 * 4 * kib})
	if err != nil {
		t.Fatal(err)
	}
	for u := int64(0); u < 200; u++ {
		if u != 130 {
			if err := um.Mark(u); err != nil {
				t.Fatal(err)
			}
		}
	}
	if um.NextClean(0) != 130 || um.NextClean(131) != -1 || um.NextDirty(130) != 131 {
		t.Errorf("NextClean(0)=%d NextClean(131)=%d NextDirty(130)=%d",
			um.NextClean(0), um.NextClean(131), um.NextDirty(130))
	}
}
