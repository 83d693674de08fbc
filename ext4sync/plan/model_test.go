package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// model is an in-memory image: inodes with metadata, directories with
// entries. Applying a plan to the model of the old tree must give the new
// tree; that is the property every test checks.
type model struct {
	inodes map[Ref]*mInode
	root   Ref
}

type mInode struct {
	node    tree.Node // metadata; Path is meaningless here
	entries map[string]Ref
}

// modelOf builds the model of an image from its tree and inode map.
func modelOf(old Old) *model {
	m := &model{inodes: make(map[Ref]*mInode)}
	for _, n := range old.Tree.Nodes {
		r := OldRef(old.Inode[n.Path])
		if m.inodes[r] == nil {
			in := &mInode{node: *n}
			if n.Kind == tree.Dir {
				in.entries = make(map[string]Ref)
			}
			m.inodes[r] = in
		}
		if n.Path == "" {
			m.root = r
			continue
		}
		m.inodes[OldRef(old.Inode[n.Parent()])].entries[n.Name()] = r
	}
	return m
}

// dir resolves the directory at path by walking entries from the root.
func (m *model) dir(path string) (*mInode, error) {
	in := m.inodes[m.root]
	if path == "" {
		return in, nil
	}
	for _, name := range strings.Split(path, "/") {
		r, ok := in.entries[name]
		if !ok {
			return nil, fmt.Errorf("no entry %q on the way to %q", name, path)
		}
		in = m.inodes[r]
		if in == nil || in.node.Kind != tree.Dir {
			return nil, fmt.Errorf("%q on the way to %q is not a directory", name, path)
		}
	}
	return in, nil
}

// refsTo counts the entries anywhere in the model pointing to r.
func (m *model) refsTo(r Ref) int {
	n := 0
	for _, in := range m.inodes {
		for _, e := range in.entries {
			if e == r {
				n++
			}
		}
	}
	return n
}

// links is the link count of r in the model, by the plan's rules.
func (m *model) links(r Ref) uint32 {
	in := m.inodes[r]
	if in.node.Kind != tree.Dir {
		return uint32(m.refsTo(r))
	}
	subdirs := 0
	for _, e := range in.entries {
		if m.inodes[e].node.Kind == tree.Dir {
			subdirs++
		}
	}
	return dirLinks(subdirs)
}

// apply runs the plan on the model, checking every order constraint as it
// goes.
func (m *model) apply(p *Plan) error {
	oldLinks := make(map[Ref]uint32)
	for r := range m.inodes {
		oldLinks[r] = m.links(r)
	}
	// 1. Removals, deepest first: a directory is empty when unlinked.
	for _, rm := range p.Remove {
		parent := rm.Path[:max(0, strings.LastIndexByte(rm.Path, '/'))]
		name := rm.Path[strings.LastIndexByte(rm.Path, '/')+1:]
		d, err := m.dir(parent)
		if err != nil {
			return fmt.Errorf("remove %q: %v", rm.Path, err)
		}
		r := OldRef(rm.Inode)
		if d.entries[name] != r {
			return fmt.Errorf("remove %q: entry is %v, plan says %v", rm.Path, d.entries[name], r)
		}
		if in := m.inodes[r]; in.node.Kind != rm.Kind {
			return fmt.Errorf("remove %q: kind %s, plan says %s", rm.Path, in.node.Kind, rm.Kind)
		} else if len(in.entries) != 0 {
			return fmt.Errorf("remove %q: directory not empty", rm.Path)
		}
		delete(d.entries, name)
		if rm.Free {
			if n := m.refsTo(r); n != 0 {
				return fmt.Errorf("remove %q frees %v with %d references left", rm.Path, r, n)
			}
			delete(m.inodes, r)
		}
	}
	for _, ino := range p.Freed {
		if m.inodes[OldRef(ino)] != nil {
			return fmt.Errorf("freed inode %d not freed by any removal", ino)
		}
	}
	// 2. Inodes in creation order; a new inode's parent exists already.
	for i := range p.Inodes {
		in := &p.Inodes[i]
		if in.Ref.IsNew() {
			if m.inodes[in.Ref] != nil {
				return fmt.Errorf("%v created twice", in.Ref)
			}
			if k, _ := in.Ref.NewIndex(); k >= p.NewInodes {
				return fmt.Errorf("%v beyond NewInodes %d", in.Ref, p.NewInodes)
			}
			if in.Node.Path != "" {
				pr, _ := p.Ref(in.Node.Parent())
				if m.inodes[pr] == nil {
					return fmt.Errorf("%v at %q created before its parent %v", in.Ref, in.Node.Path, pr)
				}
			}
			mi := &mInode{node: *in.Node}
			if in.Kind == tree.Dir {
				mi.entries = make(map[string]Ref)
			}
			m.inodes[in.Ref] = mi
			if (in.Kind == tree.Regular) != (in.Content == ContentWrite) {
				return fmt.Errorf("%v: new %s with content %s", in.Ref, in.Kind, in.Content)
			}
			continue
		}
		mi := m.inodes[in.Ref]
		if mi == nil {
			return fmt.Errorf("kept %v does not exist (freed?)", in.Ref)
		}
		if mi.node.Kind != in.Kind {
			return fmt.Errorf("kept %v changes kind %s -> %s", in.Ref, mi.node.Kind, in.Kind)
		}
		if in.OldLinks != oldLinks[in.Ref] {
			return fmt.Errorf("kept %v: OldLinks %d, image has %d", in.Ref, in.OldLinks, oldLinks[in.Ref])
		}
		if (in.Kind == tree.Regular) != (in.Content == ContentCheck) {
			return fmt.Errorf("%v: kept %s with content %s", in.Ref, in.Kind, in.Content)
		}
		applyChanges(&mi.node, in.Node, in.Changes)
	}
	// 3. Directory entries, parents first.
	for _, d := range p.Dirs {
		di := m.inodes[d.Ref]
		if di == nil || di.node.Kind != tree.Dir {
			return fmt.Errorf("dir %q: %v is not a directory", d.Path, d.Ref)
		}
		if got, err := m.dir(d.Path); err != nil || got != di {
			return fmt.Errorf("dir %q: not reachable as %v yet (%v)", d.Path, d.Ref, err)
		}
		for _, e := range d.Removed {
			if _, ok := di.entries[e.Name]; ok {
				return fmt.Errorf("dir %q: removed name %q still there after Remove", d.Path, e.Name)
			}
		}
		adds := append([]Entry(nil), d.Added...)
		for _, c := range d.Changed {
			if _, ok := di.entries[c.Old.Name]; ok {
				return fmt.Errorf("dir %q: changed name %q still there after Remove", d.Path, c.Old.Name)
			}
			adds = append(adds, c.New)
		}
		for _, e := range adds {
			if _, ok := di.entries[e.Name]; ok {
				return fmt.Errorf("dir %q: added name %q exists", d.Path, e.Name)
			}
			t := m.inodes[e.Ref]
			if t == nil || t.node.Kind != e.Kind {
				return fmt.Errorf("dir %q: entry %q points to missing or mistyped %v", d.Path, e.Name, e.Ref)
			}
			di.entries[e.Name] = e.Ref
		}
	}
	return nil
}

// applyChanges copies the changed fields of n into o.
func applyChanges(o, n *tree.Node, c Change) {
	if c&ChangeMode != 0 {
		o.Mode = n.Mode
	}
	if c&ChangeUID != 0 {
		o.UID = n.UID
	}
	if c&ChangeGID != 0 {
		o.GID = n.GID
	}
	if c&ChangeMtime != 0 {
		o.Mtime = n.Mtime
	}
	if c&ChangeXattrs != 0 {
		o.Xattrs = n.Xattrs
	}
	if c&ChangeTarget != 0 {
		o.Target = n.Target
	}
	if c&ChangeRdev != 0 {
		o.Major, o.Minor = n.Major, n.Minor
	}
}

// sameMeta compares what a Change covers.
func sameMeta(a, b *tree.Node) bool {
	return a.Kind == b.Kind && metaChanges(a, b) == 0
}

// matches checks the model now is the new tree, and that the plan's
// bookkeeping (refs, link counts, inode list) agrees with it.
func (m *model) matches(p *Plan, new *tree.Tree) error {
	paths := map[string]Ref{"": m.root}
	stack := []string{""}
	for len(stack) > 0 && len(paths) <= len(m.inodes)*4+len(new.Nodes) {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for name, r := range m.inodes[paths[dir]].entries {
			path := name
			if dir != "" {
				path = dir + "/" + name
			}
			paths[path] = r
			if m.inodes[r].node.Kind == tree.Dir {
				stack = append(stack, path)
			}
		}
	}
	if len(paths) != len(new.Nodes) {
		return fmt.Errorf("model has %d paths, new tree %d", len(paths), len(new.Nodes))
	}
	reached := make(map[Ref]bool)
	groupRef := make(map[uint64]Ref)
	for _, n := range new.Nodes {
		r, ok := paths[n.Path]
		if !ok {
			return fmt.Errorf("%q missing from the model", n.Path)
		}
		reached[r] = true
		if pr, _ := p.Ref(n.Path); pr != r {
			return fmt.Errorf("%q: plan says %v, model has %v", n.Path, pr, r)
		}
		if !sameMeta(&m.inodes[r].node, n) {
			return fmt.Errorf("%q: model metadata %+v, want %+v", n.Path, m.inodes[r].node, *n)
		}
		in := p.Inode(r)
		if in == nil {
			return fmt.Errorf("%q: %v not in Inodes", n.Path, r)
		}
		if got := m.links(r); got != in.Links {
			return fmt.Errorf("%q: %v has %d links, plan says %d", n.Path, r, got, in.Links)
		}
		if n.LinkID != 0 {
			if g, ok := groupRef[n.LinkID]; ok && g != r {
				return fmt.Errorf("%q: hard link group split across %v and %v", n.Path, g, r)
			}
			groupRef[n.LinkID] = r
		}
	}
	for r := range m.inodes {
		if !reached[r] {
			return fmt.Errorf("%v is allocated but unreachable (leaked)", r)
		}
	}
	// Inodes: every path exactly once, sorted, first path first.
	seen := make(map[string]bool)
	for i, in := range p.Inodes {
		if i > 0 && p.Inodes[i-1].Paths[0] >= in.Paths[0] {
			return fmt.Errorf("Inodes not in creation order at %q", in.Paths[0])
		}
		if !sort.StringsAreSorted(in.Paths) || in.Node.Path != in.Paths[0] {
			return fmt.Errorf("%v: paths %q not sorted from Node", in.Ref, in.Paths)
		}
		for _, path := range in.Paths {
			if seen[path] {
				return fmt.Errorf("%q assigned twice", path)
			}
			seen[path] = true
		}
	}
	if len(seen) != len(new.Nodes) {
		return fmt.Errorf("Inodes cover %d paths, new tree has %d", len(seen), len(new.Nodes))
	}
	return nil
}
