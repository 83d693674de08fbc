package plan

import (
	"reflect"
	"testing"
)

// TestMakeKeepsImageLostFound: a source without /lost+found keeps the
// image's, with what it holds, as content the image provides; a source
// with its own lost+found syncs it like any directory.
func TestMakeKeepsImageLostFound(t *testing.T) {
	old := oldOf(o{LostFound, dir, 11}, o{LostFound + "/#12", reg, 12}, o{"etc", dir, 13})
	p, err := Make(old, newOf(t, "etc d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Remove) != 0 || p.Tree.Lookup(LostFound) == nil || p.Tree.Lookup(LostFound+"/#12") == nil {
		t.Fatalf("lost+found not kept: removals %+v", p.Remove)
	}
	if want := map[string]bool{LostFound: true, LostFound + "/#12": true}; !reflect.DeepEqual(p.FromImage, want) {
		t.Errorf("from the image: %v, want %v", p.FromImage, want)
	}
	if r, _ := p.Ref(LostFound); r != OldRef(11) {
		t.Errorf("lost+found is %v, want inode 11", r)
	}

	p, err = Make(old, newOf(t, "etc d", LostFound+" d"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.FromImage) != 0 || len(p.Remove) != 1 || p.Remove[0].Path != LostFound+"/#12" {
		t.Errorf("the source's lost+found: from the image %v, removals %+v", p.FromImage, p.Remove)
	}

	// No lost+found in the image: nothing to keep.
	p, err = Make(oldOf(o{"etc", dir, 13}), newOf(t, "etc d"))
	if err != nil || p.FromImage != nil || len(p.Tree.Nodes) != 2 {
		t.Errorf("no image lost+found: %v %v %d nodes", err, p.FromImage, len(p.Tree.Nodes))
	}
}
