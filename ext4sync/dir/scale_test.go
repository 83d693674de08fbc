package dir

import (
	"fmt"
	"testing"
)

// Issue 14, item 7: adding, finding and removing n names costs O(1) leaf
// parses per name whether the directory is linear (no dir_index, or
// already linear over many blocks) or an htree, never a scan of every
// block per name (adding 6k names to a linear directory took 117 s). The
// bound is on parsed blocks, not on time, so it holds on a loaded machine.
func TestAddRemoveScale(t *testing.T) {
	const n = 6000
	for _, dirIndex := range []bool{false, true} {
		for _, bs := range []int{1024, 4096} {
			t.Run(fmt.Sprintf("dir_index=%v/%d", dirIndex, bs), func(t *testing.T) {
				p := Params{BlockSize: bs, FileType: true, Csum: true, Seed: 7, HashVersion: HashHalfMD4, DirIndex: dirIndex}
				mem := &memFile{bs: bs}
				if err := Init(mem, p, 2, 2); err != nil {
					t.Fatal(err)
				}
				d, err := Open(mem, p)
				if err != nil {
					t.Fatal(err)
				}
				name := func(i int) string { return fmt.Sprintf("name-%06d-%s", i, "abcdefghijklmnopqrstuvwxyz"[:i%27]) }
				for i := range n {
					if err := d.Add(Entry{Name: name(i), Inode: uint32(12 + i), Type: TypeRegular}); err != nil {
						t.Fatal(err)
					}
				}
				if d.Indexed() != dirIndex {
					t.Fatalf("indexed %v after %d adds over %d blocks", d.Indexed(), n, mem.Blocks())
				}
				added := d.parses
				// Reopened, as the sync finds a base's directory: the
				// first lookup reads every block once, then each name
				// costs a block.
				p.Indexed = d.Indexed()
				if d, err = Open(mem, p); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i += 2 {
					if err := d.Remove(name(i)); err != nil {
						t.Fatal(err)
					}
				}
				for i := n; i < 2*n; i++ {
					if err := d.Add(Entry{Name: name(i), Inode: uint32(12 + i), Type: TypeRegular}); err != nil {
						t.Fatal(err)
					}
				}
				ents, err := d.Entries()
				if err != nil {
					t.Fatal(err)
				}
				if len(ents) != n/2+n {
					t.Fatalf("%d entries, want %d", len(ents), n/2+n)
				}
				if dirIndex {
					if err := checkHtree(d); err != nil {
						t.Fatal(err)
					}
				}
				t.Logf("%d blocks; %d parses for %d adds, then %d for %d removes and %d adds",
					mem.Blocks(), added, n, d.parses, n/2, n)
				if added > 5*n || d.parses > int(mem.Blocks())+5*(n/2+n) {
					t.Errorf("%d and %d leaf parses: more than a few per name", added, d.parses)
				}
			})
		}
	}
}
