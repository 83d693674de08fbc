package bound

import (
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// scanPair is two 22-byte images of 4-byte blocks (the last one short):
//
//	block  base    new
//	0      aaaa    aaaa      unchanged
//	1      bbbb    Xbbb      new data
//	2      cccc    cc\0\0    shortened in place: free
//	3      dddd    \0\0\0\0  zeros: free
//	4      eeee    aaaa      the base holds it (block 0)
//	5      ff      fg        short last block, new data
var scanBase, scanNew = []byte("aaaabbbbccccddddeeeeff"), []byte("aaaaXbbbcc\x00\x00\x00\x00\x00\x00aaaafg")

func scanIn(t *testing.T, sizes ...int) *Scanned {
	t.Helper()
	s, err := NewScan(4)
	if err != nil {
		t.Fatal(err)
	}
	pos := 0
	for _, n := range sizes {
		s.Window(scanBase[pos:pos+n], scanNew[pos:pos+n])
		pos += n
	}
	r, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestScanHandMade(t *testing.T) {
	whole := scanIn(t, len(scanBase))
	for _, sizes := range [][]int{{3, 5, 1, 7, 6}, {1, 1, 1, 1, 18}, {4, 4, 4, 4, 4, 2}, {21, 1}} {
		if r := scanIn(t, sizes...); !reflect.DeepEqual(r, whole) {
			t.Errorf("windows %v: %+v, in one window %+v", sizes, r, whole)
		}
	}
	if got, want := whole.Changed(), []blockmap.Range{{Off: 4, Len: 18}}; !reflect.DeepEqual(got, want) {
		t.Errorf("changed %v, want %v", got, want)
	}
	if whole.ChangedBlocks() != 5 || whole.BlockSize() != 4 {
		t.Errorf("%d changed blocks of %d bytes", whole.ChangedBlocks(), whole.BlockSize())
	}
	free := map[uint64]bool{}
	for _, c := range whole.changed {
		free[c.blk] = c.free
	}
	if want := map[uint64]bool{1: false, 2: true, 3: true, 4: false, 5: false}; !reflect.DeepEqual(free, want) {
		t.Errorf("free %v, want %v", free, want)
	}
	for _, c := range []struct {
		data []uint64
		want int64
	}{
		{[]uint64{0, 1, 2, 3, 4, 5}, 2}, // 1 and 5: 2, 3 free, 4 held by the base
		{[]uint64{1}, 1},
		{[]uint64{4}, 0},
		{nil, 0},
	} {
		if got := whole.newData(c.data); got != c.want {
			t.Errorf("new data of %v = %d, want %d", c.data, got, c.want)
		}
	}
}

func TestScanRefusals(t *testing.T) {
	for _, bs := range []int64{0, -1, MaxBlockSize + 1} {
		if _, err := NewScan(bs); err == nil {
			t.Errorf("block size %d accepted", bs)
		}
	}
	s, _ := NewScan(4)
	s.Window([]byte("abcd"), []byte("abc"))
	if _, err := s.Finish(); err == nil {
		t.Error("windows of different lengths accepted")
	}
}

func TestBlockHash(t *testing.T) {
	seen := map[uint64]string{}
	for _, b := range []string{"", "a", "b", "aaaaaaaa", "aaaaaaab", "baaaaaaa", "aaaaaaaaa", "\x00\x00\x00\x00", "\x00\x00\x00\x00\x00"} {
		h := blockHash([]byte(b))
		if prev, ok := seen[h]; ok {
			t.Errorf("%q and %q hash alike", prev, b)
		}
		seen[h] = b
		if blockHash([]byte(b)) != h {
			t.Errorf("%q: hash differs between calls", b)
		}
	}
}
