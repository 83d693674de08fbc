package plan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func TestHardLinkGained(t *testing.T) {
	old := oldOf(o{"a", reg, 12}, o{"b", reg, 13})
	p := mustPlan(t, old, newOf(t, "a f 1", "b f 1"))
	// Tie (one vote each): the lower inode wins; b's inode is freed.
	if refOf(t, p, "a") != 12 || refOf(t, p, "b") != 12 || removals(p) != "b:13!" {
		t.Fatalf("plan %s", dump(p))
	}
	in := p.Inode(12)
	if in.Links != 2 || in.OldLinks != 1 || in.Changes != ChangeLinks || !reflect.DeepEqual(in.Paths, []string{"a", "b"}) {
		t.Errorf("inode 12: %+v", in)
	}
	want := []EntryChange{{Old: Entry{"b", 13, reg}, New: Entry{"b", 12, reg}}}
	if len(p.Dirs) != 1 || !reflect.DeepEqual(p.Dirs[0].Changed, want) {
		t.Errorf("dirs %+v", p.Dirs)
	}
}

func TestHardLinkBroken(t *testing.T) {
	old := oldOf(o{"a", reg, 12}, o{"b", reg, 12})
	p := mustPlan(t, old, newOf(t, "a f", "b f"))
	// The group splits: a keeps 12, b gets a new inode; nothing is freed.
	if refOf(t, p, "a") != 12 || refOf(t, p, "b") != NewRef(0) || removals(p) != "b:12" || len(p.Freed) != 0 {
		t.Fatalf("plan %s", dump(p))
	}
	if in := p.Inode(12); in.Links != 1 || in.OldLinks != 2 || in.Changes != ChangeLinks {
		t.Errorf("inode 12: %+v", in)
	}
}

func TestHardLinkMajority(t *testing.T) {
	// b, c, d share 12; a was 13. The new group of four keeps 12 (three
	// votes) although a sorts first, and 13 is freed.
	old := oldOf(o{"a", reg, 13}, o{"b", reg, 12}, o{"c", reg, 12}, o{"d", reg, 12})
	p := mustPlan(t, old, newOf(t, "a f 7", "b f 7", "c f 7", "d f 7"))
	if refOf(t, p, "a") != 12 || removals(p) != "a:13!" {
		t.Fatalf("plan %s", dump(p))
	}
	if in := p.Inode(12); in.Links != 4 || in.OldLinks != 3 {
		t.Errorf("inode 12: %+v", in)
	}
}

func TestHardLinkMoved(t *testing.T) {
	// x and y were one inode, z another; now y and z are one.
	old := oldOf(o{"x", reg, 12}, o{"y", reg, 12}, o{"z", reg, 13})
	p := mustPlan(t, old, newOf(t, "x f", "y f 5", "z f 5"))
	if refOf(t, p, "x") != 12 || refOf(t, p, "y") != 13 || refOf(t, p, "z") != 13 {
		t.Fatalf("plan %s", dump(p))
	}
	if removals(p) != "y:12" || len(p.Freed) != 0 {
		t.Errorf("removals %s freed %v", removals(p), p.Freed)
	}
}

func TestHardLinkGroupAllChange(t *testing.T) {
	// Every member of the old group changes type: the group cannot keep
	// its inode, which is freed once its last path is gone.
	old := oldOf(o{"d", dir, 11}, o{"d/a", reg, 12}, o{"d/b", reg, 12}, o{"c", reg, 12})
	p := mustPlan(t, old, newOf(t, "c p 3", "d d", "d/a p 3", "d/b l"))
	if got := removals(p); got != "d/a:12 d/b:12 c:12!" {
		t.Errorf("removals %s", got)
	}
	if !reflect.DeepEqual(p.Freed, []uint32{12}) || p.NewInodes != 2 {
		t.Errorf("freed %v new %d", p.Freed, p.NewInodes)
	}
	if r := refOf(t, p, "c"); r != refOf(t, p, "d/a") || !r.IsNew() {
		t.Errorf("fifo group refs %v %v", r, refOf(t, p, "d/a"))
	}
}

func TestSplitGroupSharesInodeOnce(t *testing.T) {
	// Three singletons all were one inode: only the first keeps it.
	old := oldOf(o{"a", fifo, 12}, o{"b", fifo, 12}, o{"c", fifo, 12})
	p := mustPlan(t, old, newOf(t, "a p", "b p", "c p"))
	if refOf(t, p, "a") != 12 || refOf(t, p, "b") != NewRef(0) || refOf(t, p, "c") != NewRef(1) {
		t.Errorf("plan %s", dump(p))
	}
}

func TestDirNlinkOverflow(t *testing.T) {
	const many = 64999 // 2 + 64999 > 65000: dir_nlink sets 1
	var specs []string
	for i := 0; i < many; i++ {
		specs = append(specs, fmt.Sprintf("big/%05d d", i))
	}
	specs = append(specs, "big d", "ok d")
	for i := 0; i < many-1; i++ {
		specs = append(specs, fmt.Sprintf("ok/%05d d", i))
	}
	p, err := Make(oldOf(), newOf(t, specs...))
	if err != nil {
		t.Fatal(err)
	}
	if in := p.Inode(refOf(t, p, "big")); in.Links != 1 {
		t.Errorf("big: %d links", in.Links)
	}
	if in := p.Inode(refOf(t, p, "ok")); in.Links != 65000 {
		t.Errorf("ok: %d links", in.Links)
	}
}

func TestMakeRejects(t *testing.T) {
	good := oldOf(base...)
	cases := map[string]struct {
		old  Old
		new  *tree.Tree
		want string
	}{
		"new root not a dir": {good, tree.New([]*tree.Node{node("", reg)}, nil), "root is a regular"},
		"no new root":        {good, tree.New([]*tree.Node{node("a", dir)}, nil), "parent of"},
		"nil new":            {good, nil, "new tree is nil"},
		"nil old":            {Old{}, newOf(t), "old tree is nil"},
		"orphan":             {good, newOf(t, "x/y f"), `parent of "x/y"`},
		"parent not dir":     {good, newOf(t, "x f", "x/y f"), `parent of "x/y"`},
		"linked dir":         {good, newOf(t, "x d 1"), "directory"},
		"mixed group":        {good, newOf(t, "x f 1", "y p 1"), "differ in type"},
		"duplicate path":     {good, tree.New([]*tree.Node{node("", dir), node("x", reg), node("x", reg)}, nil), "twice"},
		"no old inode":       {Old{Tree: good.Tree, Inode: map[string]uint32{"": 2}}, newOf(t), "no inode number"},
		"old kinds":          {oldOf(o{"x", reg, 12}, o{"y", fifo, 12}), newOf(t), "inode 12"},
		"old dir linked":     {oldOf(o{"x", dir, 12}, o{"y", dir, 12}), newOf(t), "directory inode 12"},
		"bad kind":           {good, tree.New([]*tree.Node{node("", dir), {Path: "x"}}, nil), "unknown kind"},
	}
	for name, c := range cases {
		_, err := Make(c.old, c.new)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "plan: ") {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	old := oldOf(o{"a", reg, 12}, o{"b", reg, 12}, o{"c", reg, 13}, o{"d", reg, 13}, o{"e", dir, 14}, o{"e/x", reg, 15})
	new := newOf(t, "a f 1", "c f 1", "b f 2", "d f 2", "e/x f", "e d", "x p")
	first, err := Make(old, new)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		again, err := Make(old, new)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("run %d differs:%s\nvs%s", i, dump(first), dump(again))
		}
	}
	checkPlan(t, old, new, first)
}

// TestTooManyHardLinks: more names for one file than EXT4_LINK_MAX cannot
// be stored (i_links_count would wrap): Make refuses with ErrTree, and
// 65000 names are still fine.
func TestTooManyHardLinks(t *testing.T) {
	for _, n := range []int{linkMax, linkMax + 1} {
		specs := make([]string, n)
		for i := range specs {
			specs[i] = fmt.Sprintf("l%05d f 7", i)
		}
		_, err := Make(oldOf(), newOf(t, specs...))
		switch {
		case n <= linkMax && err != nil:
			t.Fatalf("%d links: %v", n, err)
		case n > linkMax && !errors.Is(err, ErrTree):
			t.Fatalf("%d links: got %v, want ErrTree", n, err)
		}
	}
}
