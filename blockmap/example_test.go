package blockmap_test

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// The case measured on a real dm-snapshot: a 450 MiB image, 85 differing
// 1 MiB units, 4 KiB chunks.
func ExampleModel_Estimate() {
	m := blockmap.Model{WriteUnit: 1 << 20, Chunk: 4 << 10, ImageSize: 450 << 20}
	units := make([]int64, 85)
	for i := range units {
		units[i] = int64(i)
	}
	r, err := m.Estimate(units)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.ChunksWritten, r.ChunksUsed, r.SectorsAllocated, r.MetadataSectors)
	// Output: 21760 21847 174776 696
}

// A placement policy asks what a write would add given what is dirty.
func ExampleUnitMap_RangeCost() {
	um, err := blockmap.NewUnitMap(blockmap.Model{WriteUnit: 1 << 20, Chunk: 4 << 10, ImageSize: 64 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := um.MarkRange(5<<20+100, 4096); err != nil { // unit 5 is dirty now
		fmt.Println(err)
		return
	}
	inDirty, _ := um.RangeCost(5<<20+8192, 65536)
	straddling, _ := um.RangeCost(6<<20-4096, 8192)
	fmt.Printf("%+v %+v\n", inDirty, straddling)
	// Output: {Units:0 Chunks:0} {Units:1 Chunks:256}
}
