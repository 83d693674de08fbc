package plan

import (
	"reflect"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func TestPathSkeleton(t *testing.T) {
	for in, want := range map[string]string{
		"usr/lib/libfoo.so.1.2.3":          "usr/lib/libfoo.so.#.#.#",
		"lib/modules/6.1.0-22/kernel/a.ko": "lib/modules/#.#.#-#/kernel/a.ko",
		"etc/x":                            "etc/x",
		"usr/lib/python3.11/site/m592.py":  "usr/lib/python#.#/site/m#.py",
	} {
		if got := skeleton(in); got != want {
			t.Errorf("skeleton(%q) = %q, want %q", in, got, want)
		}
	}
	if n := sharedTail("a/b/c/d", "x/b/c/d"); n != 3 {
		t.Errorf("sharedTail = %d, want 3", n)
	}
}

// sized is a regular file of n bytes with mtime sec.
func sized(path string, n, sec int64) *tree.Node {
	f := node(path, reg)
	f.Size, f.Mtime = n, tree.Time{Sec: sec}
	return f
}

// TestMakeAdoptsSimilarRemovedFiles: a new file takes the inode of the
// removed file it most looks like (the same size and mtime, else the same
// name elsewhere, else the same path up to its digits), each removed inode
// once, and an adopted inode is not freed.
func TestMakeAdoptsSimilarRemovedFiles(t *testing.T) {
	old := Old{Inode: map[string]uint32{"": 2, "a": 12, "a/mv": 13, "lib": 14, "lib/libz.so.1.2": 15,
		"mod": 16, "mod/6.1/x.ko": 17, "mod/6.1": 18, "gone": 19}}
	old.Tree = tree.New([]*tree.Node{node("", dir), node("a", dir), sized("a/mv", 100, 5),
		node("lib", dir), sized("lib/libz.so.1.2", 4000, 5), node("mod", dir), node("mod/6.1", dir),
		sized("mod/6.1/x.ko", 900, 5), sized("gone", 7, 5)}, nil)
	next := tree.New([]*tree.Node{node("", dir), node("a", dir), sized("a/moved", 100, 5),
		node("lib", dir), sized("lib/libz.so.1.3", 4100, 9), node("mod", dir), node("mod/6.2", dir),
		sized("mod/6.2/x.ko", 950, 9), sized("new", 7, 6)}, nil)
	p, err := Make(old, next)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint32{"a/moved": 13, "lib/libz.so.1.3": 15, "mod/6.2/x.ko": 17}
	got := map[string]uint32{}
	for k, ino := range p.Adopt {
		for i := range p.Inodes {
			if idx, ok := p.Inodes[i].Ref.NewIndex(); ok && idx == k {
				got[p.Inodes[i].Node.Path] = ino
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("adopted %v, want %v", got, want)
	}
	for _, rm := range p.Remove {
		adopted := rm.Inode == 13 || rm.Inode == 15 || rm.Inode == 17
		if p.Adopted(rm.Inode) != adopted || p.FreesData(rm) != (rm.Free && rm.Kind == reg && !adopted) {
			t.Errorf("%s (inode %d): adopted %v, frees data %v", rm.Path, rm.Inode, p.Adopted(rm.Inode), p.FreesData(rm))
		}
	}
	if !p.FreesData(Removal{Path: "gone", Kind: reg, Inode: 19, Free: true}) {
		t.Error("the removed file no new file adopts does not free its data")
	}
}
