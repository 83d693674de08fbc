package bound

import (
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// handLayout is two groups of 8192 1 KiB blocks with flex_bg-style
// metadata in group 0: superblock 1, descriptors 2 and reserved 3-6,
// group 0's bitmaps 10 and 11 and table 12-523, group 1's bitmaps 20 and
// 21 and table 524-1035, a backup superblock and descriptors at 8193.
func handLayout() *disk.Layout {
	return &disk.Layout{Geometry: disk.Geometry{BlockSize: 1024, BlocksCount: 16385, FirstDataBlock: 1, BlocksPerGroup: 8192,
		InodesPerGroup: 2048, InodeSize: 256, DescSize: 64, GdtBlocks: 1, ReservedGdt: 4, ItableBlocks: 512},
		Group: []disk.GroupMeta{{Super: true, BlockBitmap: 10, InodeBitmap: 11, InodeTable: 12},
			{Super: true, BlockBitmap: 20, InodeBitmap: 21, InodeTable: 524}}}
}

const handImage = 16385 * 1024

func model(w, c int64) blockmap.Model {
	return blockmap.Model{WriteUnit: w, Chunk: c, ImageSize: handImage}
}

func TestBoundHandMade(t *testing.T) {
	cases := []struct {
		name  string
		facts Facts
		m     blockmap.Model
		want  Bound
	}{
		{"nothing changes", Facts{}, model(4096, 4096), Bound{}},
		// Unit 3 (blocks 12-15) is all inode table: no room; 10 KiB of
		// data take 3 units of 4 KiB.
		{"W=C=4KiB", Facts{NewData: 10, Forced: []uint64{12}}, model(4096, 4096),
			Bound{Units: 4, MetaUnits: 1, DataUnits: 3, DataBlocks: 10, MetaBlocks: 1, ChunksWritten: 4}},
		// Unit 0 (blocks 0-15) holds 12 metadata blocks; blocks 0 and 7-9
		// are room for 4 of the 10 data blocks, 6 KiB need one more unit
		// of 16 KiB (4 chunks).
		{"room in a metadata unit", Facts{NewData: 10, Forced: []uint64{12}}, model(16<<10, 4096),
			Bound{Units: 2, MetaUnits: 1, DataUnits: 1, DataBlocks: 10, MetaBlocks: 1, ChunksWritten: 8}},
		{"data fits the room", Facts{NewData: 4, Forced: []uint64{12}}, model(16<<10, 4096),
			Bound{Units: 1, MetaUnits: 1, DataBlocks: 4, MetaBlocks: 1, ChunksWritten: 4}},
		// One more inode: a group's inode bitmap and descriptor block.
		// Group 0's are in units 2 and 0, group 1's in 5 and 0: a tie, the
		// first group wins.
		{"inode count changes", Facts{InodesDelta: 1}, model(4096, 4096),
			Bound{Units: 2, MetaUnits: 2, MetaBlocks: 2, ChunksWritten: 2}},
		// With block 20 already in M, group 1's bitmap (21) is free.
		{"cheapest group", Facts{InodesDelta: -3, Forced: []uint64{20}}, model(4096, 4096),
			Bound{Units: 2, MetaUnits: 2, MetaBlocks: 3, ChunksWritten: 2}},
		// W < C: 4 units of 1 KiB may share one 4 KiB chunk.
		{"units smaller than chunks", Facts{NewData: 3, Forced: []uint64{12}}, model(1024, 4096),
			Bound{Units: 4, MetaUnits: 1, DataUnits: 3, DataBlocks: 3, MetaBlocks: 1, ChunksWritten: 1}},
		// More data than the image holds: capped at every unit.
		{"capped", Facts{NewData: 1 << 30}, model(1<<20, 4096),
			Bound{Units: 17, DataUnits: 17, DataBlocks: 1 << 30, ChunksWritten: 16*256 + 1}},
	}
	for _, c := range cases {
		c.facts.Layout = handLayout()
		got, err := c.facts.Bound(c.m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		c.want.COWBytes = c.m.COWBytes(c.want.ChunksWritten)
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}

func TestBoundRefusals(t *testing.T) {
	if _, err := (&Facts{Layout: handLayout()}).Bound(blockmap.Model{}); err == nil {
		t.Error("a bad model was accepted")
	}
	if _, err := (&Facts{}).Bound(model(4096, 4096)); err == nil {
		t.Error("no layout was accepted")
	}
	far := &Facts{Layout: handLayout(), Forced: []uint64{1 << 40}}
	if _, err := far.Bound(model(4096, 4096)); err == nil {
		t.Error("a block past the image was accepted")
	}
	r := &Scanned{blockSize: 4096}
	if _, err := Gather(nil, nil, handLayout(), r, nil); err == nil {
		t.Error("a scan in another block size was accepted")
	}
	if _, err := Gather(nil, nil, nil, r, nil); err == nil {
		t.Error("no layout was accepted")
	}
}
