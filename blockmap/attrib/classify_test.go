package attrib

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// handLayout is two groups of 8192 1 KiB blocks, both holding a superblock,
// with flex_bg-style metadata all in group 0.
func handLayout() *disk.Layout {
	return &disk.Layout{Geometry: disk.Geometry{BlockSize: 1024, BlocksCount: 16385, FirstDataBlock: 1, BlocksPerGroup: 8192,
		InodesPerGroup: 2048, InodeSize: 256, DescSize: 64, GdtBlocks: 1, ReservedGdt: 4, ItableBlocks: 512},
		Group: []disk.GroupMeta{{Super: true, BlockBitmap: 10, InodeBitmap: 11, InodeTable: 12},
			{Super: true, BlockBitmap: 20, InodeBitmap: 21, InodeTable: 524}}}
}

func blocksRanges(bs int64, blocks ...int64) []blockmap.Range {
	var rs []blockmap.Range
	for _, b := range blocks {
		rs = append(rs, blockmap.Range{Off: b * bs, Len: bs})
	}
	return rs
}

func TestClassifyHandMade(t *testing.T) {
	l := handLayout()
	m := blockmap.Model{WriteUnit: 16 << 10, Chunk: 4 << 10, ImageSize: 16385 * 1024}
	changed := blocksRanges(1024, 1, 2, 10, 12, 2000, 2001, 2002, 5000)
	data := written.Data
	touched := []written.Path{
		{Path: "a", Ino: 12, Blocks: []uint64{12, 2000, 2001}, Kinds: []written.Kind{data, data, data}},
		{Path: "b", Ino: 13, Blocks: []uint64{2002}, Kinds: []written.Kind{data}},
	}
	r, err := Classify(l, m, changed, touched, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Result.UnitsChanged != 3 || r.BlocksChanged != 8 || r.SharedUnits != 2 {
		t.Fatalf("units %d blocks %d shared %d, want 3, 8, 2", r.Result.UnitsChanged, r.BlocksChanged, r.SharedUnits)
	}
	wantUnits := []UnitInfo{
		{Unit: 0, Reason: InodeTable, Blocks: 4, Owners: []string{"/a", "block bitmap", "group descriptors"}},
		{Unit: 125, Reason: FileData, Blocks: 3, Owners: []string{"/a", "/b"}},
		{Unit: 312, Reason: Other, Blocks: 1, Owners: []string{"other"}},
	}
	if !reflect.DeepEqual(r.Units, wantUnits) {
		t.Errorf("units\n got %+v\nwant %+v", r.Units, wantUnits)
	}
	wantCats := []CategoryRow{{FileData, 3, 1}, {InodeTable, 1, 1}, {BlockBitmap, 1, 1},
		{GroupDescriptors, 1, 1}, {Superblock, 1, 1}, {Other, 1, 1}}
	if !reflect.DeepEqual(r.Categories, wantCats) {
		t.Errorf("categories\n got %+v\nwant %+v", r.Categories, wantCats)
	}
	var names []string
	share := 0.0
	for _, c := range r.Contributors {
		names = append(names, c.Name)
		share += c.Share
	}
	wantNames := []string{"other", "/a", "/b", "block bitmap", "group descriptors", "superblock"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("ranking %v, want %v", names, wantNames)
	}
	if math.Abs(share-3) > 1e-9 {
		t.Errorf("shares add up to %v, want the 3 units changed", share)
	}
	a := r.Contributors[1]
	if a.Blocks != 3 || a.Units != 2 || a.SoleUnits != 0 || math.Abs(a.Share-(1.0/4+2.0/3)) > 1e-9 || a.Kind != KindPath || a.Ino != 12 {
		t.Errorf("/a: %+v", a)
	}
	// Observe sees every changed block with its category, in order.
	type seen struct {
		blk uint64
		cat Category
	}
	var got []seen
	if _, err := Classify(l, m, changed, touched, Options{Observe: func(b uint64, c Category) { got = append(got, seen{b, c}) }}); err != nil {
		t.Fatal(err)
	}
	wantSeen := []seen{{1, Superblock}, {2, GroupDescriptors}, {10, BlockBitmap}, {12, InodeTable},
		{2000, FileData}, {2001, FileData}, {2002, FileData}, {5000, Other}}
	if !reflect.DeepEqual(got, wantSeen) {
		t.Errorf("observed %v, want %v", got, wantSeen)
	}
	// Deterministic JSON with the documented names.
	j1, _ := json.Marshal(r)
	r2, _ := Classify(l, m, changed, touched, Options{})
	j2, _ := json.Marshal(r2)
	if string(j1) != string(j2) {
		t.Error("two runs marshal differently")
	}
	var generic map[string]any
	if err := json.Unmarshal(j1, &generic); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"result", "blocks_changed", "shared_units", "categories", "contributors", "units"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
}

func TestClassifyKindsAndBounds(t *testing.T) {
	l := handLayout()
	m := blockmap.Model{WriteUnit: 4 << 10, Chunk: 4 << 10, ImageSize: 16385 * 1024}
	// Block 2000 is an entry edit of /d's parent, 2001 a node of its
	// extent tree.
	touched := []written.Path{{Path: "/d", Ino: 12, Blocks: []uint64{2000, 2001}, Kinds: []written.Kind{written.Entries, written.ExtentTree}}}
	r, err := Classify(l, m, blocksRanges(1024, 2000, 2001), touched, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []CategoryRow{{Directory, 1, 1}, {ExtentTree, 1, 1}}
	if !reflect.DeepEqual(r.Categories, want) || r.Units[0].Reason != Directory {
		t.Errorf("got %+v / %+v", r.Categories, r.Units)
	}
	if _, err := Classify(l, m, []blockmap.Range{{Off: m.ImageSize, Len: 1}}, nil, Options{}); err == nil {
		t.Error("a range past the image was accepted")
	}
	if _, err := Classify(nil, m, nil, nil, Options{}); err == nil {
		t.Error("no layout was accepted")
	}
	if _, err := Classify(l, blockmap.Model{}, nil, nil, Options{}); err == nil {
		t.Error("a bad model was accepted")
	}
	r, err = Classify(l, m, nil, nil, Options{})
	if err != nil || len(r.Units) != 0 || r.Result.UnitsChanged != 0 {
		t.Errorf("no changes: %+v %v", r, err)
	}
}
