package file_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Compare gives the digests DigestReader gives and marks exactly the
// blocks the inode holds byte for byte where it maps them; Change from
// those marks is Change from reading the blocks.
func TestCompareMarksBlocksInPlace(t *testing.T) {
	forVariants(t, func(t *testing.T, v variant) {
		bs := v.bs
		// 300 blocks: several compare windows at 1 KiB blocks. A hole in
		// the middle (zeros written are stored as holes), a short tail.
		old := randBytes(7, 300*bs+100)
		clear(old[40*bs : 50*bs])
		x := newFixture(t, v, func(x *fixture) { x.write("f", old) })
		in := x.open("f")
		var cmp file.Comparer
		for _, c := range []struct {
			name string
			new  []byte
			diff []int // logical blocks whose bytes differ from old
		}{
			{"same", bytes.Clone(old), nil},
			{"edited", edit(old, 3*bs+1, 299*bs+5, 260*bs), []int{3, 260, 299}},
			{"grown", append(bytes.Clone(old), randBytes(8, 3*bs)...), []int{300}},
			{"shrunk", bytes.Clone(old[:100*bs+7]), []int{100}},
			{"hole filled", fill(old, 45*bs, 1), nil},
		} {
			d, same, err := cmp.Compare(&tree.Node{Size: int64(len(c.new))}, bytes.NewReader(c.new), in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := tree.DigestReader(bytes.NewReader(c.new), int64(len(c.new)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d, want) {
				t.Fatalf("%s: digests differ from DigestReader's", c.name)
			}
			blocks := d.Blocks(bs)
			for lb := 0; int64(lb) < blocks.N; lb++ {
				mapped := lb <= 300 && (lb < 40 || lb >= 50) // block 300 is the short tail; old's holes are not mapped
				differs := contains(c.diff, lb) || lb >= 301 || (c.name == "hole filled" && lb == 45)
				if wantSame := mapped && !differs && blocks.At(int64(lb)) != 0; same.Has(int64(lb)) != wantSame {
					t.Errorf("%s: block %d same=%v, want %v", c.name, lb, same.Has(int64(lb)), wantSame)
				}
			}
			if all := same.All(blocks); all != (c.name == "same") {
				t.Errorf("%s: All = %v", c.name, all)
			}
			fromMarks, err := in.Change(blocks, same)
			if err != nil {
				t.Fatal(err)
			}
			fromReads, err := in.Change(blocks, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fromMarks, fromReads) {
				t.Errorf("%s: Change from marks %+v, from reads %+v", c.name, fromMarks, fromReads)
			}
		}
		// A file with no image inode behind it is only digested.
		d, same, err := cmp.Compare(&tree.Node{Size: int64(len(old))}, bytes.NewReader(old), nil)
		if err != nil || same != nil || d.N != int64(len(old)+tree.DigestUnit-1)/tree.DigestUnit {
			t.Errorf("no inode: %d digests, same %v, err %v", d.N, same, err)
		}
		if _, _, err := cmp.Compare(&tree.Node{Size: int64(len(old))}, bytes.NewReader(old[:10]), in); err == nil {
			t.Error("short content accepted")
		}
	})
}

// edit returns b with one byte flipped at each offset.
func edit(b []byte, offs ...int) []byte {
	out := bytes.Clone(b)
	for _, o := range offs {
		out[o] ^= 0x5A
	}
	return out
}

// fill returns b with byte off set to v.
func fill(b []byte, off int, v byte) []byte {
	out := bytes.Clone(b)
	out[off] = v
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
