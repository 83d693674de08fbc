package plan

import (
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
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

// TestMakeKeepsImageLostFoundOverMkfsOne: a source's lost+found that only
// its own mkfs made (empty, same permissions, owner and xattrs as the
// image's; only its times differ) counts as none, so the image's is kept.
// One that differs in something a user could set is synced as it is.
func TestMakeKeepsImageLostFoundOverMkfsOne(t *testing.T) {
	old := oldOf(o{LostFound, dir, 11}, o{"etc", dir, 13})
	withLF := func(edit func(n *tree.Node), children ...string) *tree.Tree {
		t.Helper()
		tr := newOf(t, append([]string{"etc d", LostFound + " d"}, children...)...)
		n := tr.Lookup(LostFound)
		n.Mtime = tree.Time{Sec: 1700086400} // a later mkfs run
		if edit != nil {
			edit(n)
		}
		return tr
	}
	p, err := Make(old, withLF(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{LostFound: true}; !reflect.DeepEqual(p.FromImage, want) {
		t.Errorf("mkfs's lost+found: from the image %v, want %v", p.FromImage, want)
	}
	if n := p.Tree.Lookup(LostFound); n == nil || n.Mtime != old.Tree.Lookup(LostFound).Mtime {
		t.Errorf("mkfs's lost+found: the tree's is %+v, want the image's", n)
	}
	if len(p.Remove) != 0 || !p.Empty() {
		t.Errorf("mkfs's lost+found: the plan changes something: removals %+v", p.Remove)
	}

	for name, src := range map[string]*tree.Tree{
		"mode":    withLF(func(n *tree.Node) { n.Mode = 0o700 }),
		"owner":   withLF(func(n *tree.Node) { n.UID = 1000 }),
		"xattrs":  withLF(func(n *tree.Node) { n.Xattrs = []tree.Xattr{{Name: "user.a", Value: []byte("b")}} }),
		"content": withLF(nil, LostFound+"/kept f"),
	} {
		p, err := Make(old, src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(p.FromImage) != 0 || p.Tree != src {
			t.Errorf("%s: the source's lost+found is not synced: from the image %v", name, p.FromImage)
		}
	}
}
