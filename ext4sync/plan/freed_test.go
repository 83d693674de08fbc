package plan

import "testing"

// TestFreedContentTake: freed blocks are handed out by content, in the
// order given, each once, skipping blocks no longer free; zero blocks are
// never handed out.
func TestFreedContentTake(t *testing.T) {
	c := IndexFreed([]FreedBlock{{100, 7}, {101, 0}, {102, 7}, {103, 9}, {104, 7}})
	inUse := map[uint64]bool{102: true}
	free := func(b uint64) (bool, error) { return !inUse[b], nil }
	var got []uint64
	for range 4 {
		b, ok, err := c.Take(7, free)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			got = append(got, b)
		}
	}
	if len(got) != 2 || got[0] != 100 || got[1] != 104 {
		t.Errorf("took %v for digest 7, want [100 104]", got)
	}
	if _, ok, _ := c.Take(0, free); ok {
		t.Error("a zero block was handed out")
	}
	if b, ok, _ := c.Take(9, free); !ok || b != 103 {
		t.Errorf("digest 9: %d %v, want 103", b, ok)
	}
	var none *FreedContent
	if _, ok, err := none.Take(7, free); ok || err != nil {
		t.Errorf("no freed content: %v %v", ok, err)
	}
}
