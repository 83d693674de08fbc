package bound

import (
	"bytes"
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

// ExamineChanged over any ranges that cover every differing byte finds
// what a full scan finds, and a base scanned on its own hashes as in the
// full scan.
func TestExamineChangedMatchesScan(t *testing.T) {
	whole := scanIn(t, len(scanBase))
	for _, windows := range [][]int{{22}, {3, 5, 1, 13}} {
		b, err := NewBaseScan(4)
		if err != nil {
			t.Fatal(err)
		}
		pos := 0
		for _, n := range windows {
			b.Window(scanBase[pos : pos+n])
			pos += n
		}
		h, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		for _, changes := range [][]blockmap.Range{
			{{Off: 0, Len: 22}},
			{{Off: 4, Len: 18}},
			{{Off: 4, Len: 1}, {Off: 8, Len: 3}, {Off: 11, Len: 1}, {Off: 12, Len: 10}},
			{{Off: 5, Len: 1}, {Off: 9, Len: 9}, {Off: 20, Len: 2}},
		} {
			got, err := ExamineChanged(bytes.NewReader(scanBase), bytes.NewReader(scanNew), h, changes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, whole) {
				t.Errorf("windows %v, changes %v: %+v, full scan %+v", windows, changes, got, whole)
			}
		}
	}
	h, _ := (&BaseScan{bs: 4}).Finish()
	h.size = 22
	if _, err := ExamineChanged(bytes.NewReader(scanBase), bytes.NewReader(scanNew), h, []blockmap.Range{{Off: 20, Len: 3}}); err == nil {
		t.Error("a range past the image's end was accepted")
	}
}

// A base's all-zero blocks are held like any other block.
func TestBaseScanZeroBlocks(t *testing.T) {
	b, _ := NewBaseScan(4)
	b.Window([]byte("abcd\x00\x00\x00\x00\x00\x00"))
	h, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	r := h.with(nil)
	for _, blk := range []string{"abcd", "\x00\x00\x00\x00", "\x00\x00"} {
		if !r.baseHolds(blockHash([]byte(blk))) {
			t.Errorf("block %q not held", blk)
		}
	}
	if len(r.base) != 3 || h.BlockSize() != 4 || h.size != 10 {
		t.Errorf("hashes %v, block size %d, size %d", r.base, h.BlockSize(), h.size)
	}
}
