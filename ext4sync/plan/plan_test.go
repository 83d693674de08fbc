package plan

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

const (
	reg  = tree.Regular
	dir  = tree.Dir
	sym  = tree.Symlink
	fifo = tree.FIFO
)

// o is one image path with its inode; link groups share ino.
type o struct {
	path string
	kind tree.Kind
	ino  uint32
}

func node(path string, kind tree.Kind) *tree.Node {
	n := &tree.Node{Path: path, Kind: kind, Mode: 0o644, Mtime: tree.Time{Sec: 1, Nsec: 2}}
	if kind == dir {
		n.Mode = 0o755
	}
	if kind == sym {
		n.Target = "target"
	}
	return n
}

// oldOf builds an image; the root (inode 2) is added when missing.
func oldOf(entries ...o) Old {
	old := Old{Inode: map[string]uint32{"": 2}}
	nodes := []*tree.Node{node("", dir)}
	for _, e := range entries {
		nodes = append(nodes, node(e.path, e.kind))
		old.Inode[e.path] = e.ino
	}
	old.Tree = tree.New(nodes, nil)
	return old
}

// newOf builds a new tree from "path kind [linkid]" specs; the root is
// added.
func newOf(t *testing.T, specs ...string) *tree.Tree {
	t.Helper()
	kinds := map[string]tree.Kind{"f": reg, "d": dir, "l": sym, "p": fifo}
	nodes := []*tree.Node{node("", dir)}
	for _, s := range specs {
		var path, k string
		var link uint64
		if n, _ := fmt.Sscan(s, &path, &k, &link); n < 2 {
			t.Fatalf("bad spec %q", s)
		}
		n := node(path, kinds[k])
		n.LinkID = link
		nodes = append(nodes, n)
	}
	return tree.New(nodes, nil)
}

// mustPlan makes the plan and checks it against the model.
func mustPlan(t *testing.T, old Old, new *tree.Tree) *Plan {
	t.Helper()
	p, err := Make(old, new)
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, old, new, p)
	return p
}

func checkPlan(t *testing.T, old Old, new *tree.Tree, p *Plan) {
	t.Helper()
	used := make(map[Ref]bool)
	for _, n := range new.Nodes {
		r, ok := p.Ref(n.Path)
		if !ok || r == 0 {
			t.Fatalf("%q has no inode", n.Path)
		}
		used[r] = true
	}
	for _, ino := range p.Freed {
		if used[OldRef(ino)] {
			t.Fatalf("freed inode %d is used", ino)
		}
	}
	for i := 1; i < len(p.Remove); i++ {
		if depth(p.Remove[i-1].Path) < depth(p.Remove[i].Path) {
			t.Fatalf("Remove not deepest first: %q before %q", p.Remove[i-1].Path, p.Remove[i].Path)
		}
	}
	m := modelOf(old)
	if err := m.apply(p); err != nil {
		t.Fatalf("apply: %v\nplan: %s", err, dump(p))
	}
	if err := m.matches(p, new); err != nil {
		t.Fatalf("result: %v\nplan: %s", err, dump(p))
	}
}

func dump(p *Plan) string {
	var b strings.Builder
	for _, r := range p.Remove {
		fmt.Fprintf(&b, "\n  remove %q %s ino %d free=%v", r.Path, r.Kind, r.Inode, r.Free)
	}
	for _, in := range p.Inodes {
		fmt.Fprintf(&b, "\n  inode %v %s %q links %d->%d changes %s content %s", in.Ref, in.Kind, in.Paths, in.OldLinks, in.Links, in.Changes, in.Content)
	}
	for _, d := range p.Dirs {
		fmt.Fprintf(&b, "\n  dir %q %v -%v +%v ~%v", d.Path, d.Ref, d.Removed, d.Added, d.Changed)
	}
	return b.String()
}

func removals(p *Plan) string {
	var s []string
	for _, r := range p.Remove {
		x := fmt.Sprintf("%s:%d", r.Path, r.Inode)
		if r.Free {
			x += "!"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

func refOf(t *testing.T, p *Plan, path string) Ref {
	t.Helper()
	r, ok := p.Ref(path)
	if !ok {
		t.Fatalf("no ref for %q", path)
	}
	return r
}

var base = []o{{"a", dir, 11}, {"a/f", reg, 12}, {"l", sym, 13}, {"p", fifo, 14}}

func TestNoOp(t *testing.T) {
	p := mustPlan(t, oldOf(base...), newOf(t, "a d", "a/f f", "l l", "p p"))
	if !p.Empty() || p.NewInodes != 0 || len(p.Remove) != 0 || len(p.Dirs) != 0 || len(p.Freed) != 0 {
		t.Fatalf("no-op plan not empty: %s", dump(p))
	}
	if in := p.Inode(refOf(t, p, "a/f")); in.Ref != OldRef(12) || in.Content != ContentCheck {
		t.Errorf("a/f: %+v", in)
	}
	if in := p.Inode(OldRef(2)); in.Links != 3 || in.OldLinks != 3 {
		t.Errorf("root links %d/%d", in.OldLinks, in.Links)
	}
}

func TestAdd(t *testing.T) {
	p := mustPlan(t, oldOf(base...), newOf(t, "a d", "a/f f", "a/g f", "b d", "b/c d", "l l", "p p"))
	if p.NewInodes != 3 || len(p.Remove) != 0 {
		t.Fatalf("plan: %s", dump(p))
	}
	// Creation order is path order, new refs numbered along it.
	for i, path := range []string{"a/g", "b", "b/c"} {
		if r := refOf(t, p, path); r != NewRef(i) {
			t.Errorf("%q is %v, want %v", path, r, NewRef(i))
		}
	}
	if in := p.Inode(NewRef(0)); in.Content != ContentWrite || in.Links != 1 {
		t.Errorf("a/g: %+v", in)
	}
	if in := p.Inode(NewRef(1)); in.Links != 3 {
		t.Errorf("b links %d", in.Links)
	}
	if in := p.Inode(OldRef(2)); in.Changes != ChangeLinks || in.Links != 4 {
		t.Errorf("root: links %d changes %s", in.Links, in.Changes)
	}
	want := []DirChange{
		{Path: "", Ref: 2, Added: []Entry{{"b", NewRef(1), dir}}},
		{Path: "a", Ref: 11, Added: []Entry{{"g", NewRef(0), reg}}},
		{Path: "b", Ref: NewRef(1), Added: []Entry{{"c", NewRef(2), dir}}},
	}
	if !reflect.DeepEqual(p.Dirs, want) {
		t.Errorf("dirs %+v", p.Dirs)
	}
}

func TestRemove(t *testing.T) {
	p := mustPlan(t, oldOf(base...), newOf(t, "a d", "l l", "p p"))
	if got := removals(p); got != "a/f:12!" {
		t.Errorf("removals %s", got)
	}
	if !reflect.DeepEqual(p.Freed, []uint32{12}) {
		t.Errorf("freed %v", p.Freed)
	}
	if len(p.Dirs) != 1 || !reflect.DeepEqual(p.Dirs[0].Removed, []Entry{{"f", 12, reg}}) {
		t.Errorf("dirs %+v", p.Dirs)
	}
}

func TestRenameIsRemoveAndAdd(t *testing.T) {
	p := mustPlan(t, oldOf(base...), newOf(t, "a d", "a/g f", "l l", "p p"))
	if removals(p) != "a/f:12!" || refOf(t, p, "a/g") != NewRef(0) {
		t.Errorf("plan %s", dump(p))
	}
	if in := p.Inode(NewRef(0)); in.Content != ContentWrite {
		t.Errorf("renamed file content %s", in.Content)
	}
}

func TestTypeChange(t *testing.T) {
	p := mustPlan(t, oldOf(base...), newOf(t, "a d", "a/f f", "l f", "p p"))
	if removals(p) != "l:13!" || refOf(t, p, "l") != NewRef(0) {
		t.Fatalf("plan %s", dump(p))
	}
	want := []EntryChange{{Old: Entry{"l", 13, sym}, New: Entry{"l", NewRef(0), reg}}}
	if len(p.Dirs) != 1 || !reflect.DeepEqual(p.Dirs[0].Changed, want) {
		t.Errorf("dirs %+v", p.Dirs)
	}
	// A directory that becomes a file: its contents go first.
	p = mustPlan(t, oldOf(base...), newOf(t, "a f", "l l", "p p"))
	if removals(p) != "a/f:12! a:11!" {
		t.Errorf("removals %s", removals(p))
	}
	if in := p.Inode(OldRef(2)); in.Links != 2 || in.Changes != ChangeLinks {
		t.Errorf("root %+v", in)
	}
}

func TestNestedDirRemoval(t *testing.T) {
	old := oldOf(append(base, o{"d", dir, 20}, o{"d/e", dir, 21}, o{"d/e/f", reg, 22}, o{"d/g", reg, 23}, o{"d/e/h", sym, 24})...)
	p := mustPlan(t, old, newOf(t, "a d", "a/f f", "l l", "p p"))
	if got := removals(p); got != "d/e/f:22! d/e/h:24! d/e:21! d/g:23! d:20!" {
		t.Errorf("removals %s", got)
	}
	if !reflect.DeepEqual(p.Freed, []uint32{20, 21, 22, 23, 24}) {
		t.Errorf("freed %v", p.Freed)
	}
	// Only the root's entries change; the removed directories are freed whole.
	if len(p.Dirs) != 1 || p.Dirs[0].Path != "" {
		t.Errorf("dirs %+v", p.Dirs)
	}
}

func TestRootMetadata(t *testing.T) {
	new := newOf(t, "a d", "a/f f", "l l", "p p")
	new.Nodes[0].Mode = 0o700
	new.Nodes[0].Xattrs = []tree.Xattr{{Name: "security.selinux", Value: []byte("root_t\x00")}}
	l := new.Lookup("l")
	l.Target = "elsewhere"
	l.Mtime.Nsec++
	p := mustPlan(t, oldOf(base...), new)
	if p.Empty() {
		t.Fatal("metadata changes gave an empty plan")
	}
	if c := p.Inode(OldRef(2)).Changes; c != ChangeMode|ChangeXattrs {
		t.Errorf("root changes %s", c)
	}
	if c := p.Inode(OldRef(13)).Changes; c != ChangeTarget|ChangeMtime {
		t.Errorf("symlink changes %s", c)
	}
}
