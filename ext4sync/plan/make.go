package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Make plans syncing the new tree onto the image described by old: every
// decision, as values, before anything is written.
func Make(old Old, new *tree.Tree) (*Plan, error) {
	oix, err := indexTree(old.Tree, "old")
	if err != nil {
		return nil, err
	}
	if new == nil {
		return nil, fmt.Errorf("plan: new tree is nil")
	}
	want, fromImage := keepLostFound(old, new)
	nix, err := indexTree(want, "new")
	if err != nil {
		return nil, err
	}
	byIno, err := oldInodes(oix, old.Inode)
	if err != nil {
		return nil, err
	}
	groups, err := linkGroups(nix)
	if err != nil {
		return nil, err
	}
	p := &Plan{Tree: want, FromImage: fromImage, refs: make(map[string]Ref, len(nix.nodes)), index: make(map[Ref]int, len(groups))}
	kept := assign(oix, old.Inode, groups)
	p.inodes(oix, nix, old.Inode, byIno, groups, kept)
	p.removals(oix, old.Inode)
	p.dirs(oix, nix, old.Inode)
	p.Adopt, p.adopted = pairRenames(p, old)
	return p, nil
}

// assign picks the image inode each group keeps. A group may keep the old
// inode of any member whose image path had the same type; it prefers the
// inode most members already point to. Every old inode goes to at most one
// group, so an old group that split keeps its inode in one part only.
// Choices are made greedily over all groups at once, best first, so the
// result does not depend on map order. The returned slice holds 0 for
// groups that need a new inode.
func assign(oix *index, inode map[string]uint32, groups [][]*tree.Node) []uint32 {
	type candidate struct {
		group, votes int
		ino          uint32
	}
	var cands []candidate
	for g, members := range groups {
		votes := make(map[uint32]int)
		for _, n := range members {
			if o := oix.byPath[n.Path]; o != nil && o.Kind == n.Kind {
				votes[inode[n.Path]]++
			}
		}
		for ino, v := range votes {
			cands = append(cands, candidate{group: g, votes: v, ino: ino})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.votes != b.votes {
			return a.votes > b.votes
		}
		if a.group != b.group {
			return a.group < b.group
		}
		return a.ino < b.ino
	})
	kept := make([]uint32, len(groups))
	taken := make(map[uint32]bool)
	for _, c := range cands {
		if kept[c.group] != 0 || taken[c.ino] {
			continue
		}
		kept[c.group] = c.ino
		taken[c.ino] = true
	}
	return kept
}

// inodes fills refs and Inodes: one inode per group in order of first
// path, kept or new, with link counts, metadata changes and content work.
func (p *Plan) inodes(oix, nix *index, inode map[string]uint32, byIno map[uint32][]*tree.Node,
	groups [][]*tree.Node, kept []uint32) {
	for g, members := range groups {
		first := members[0]
		in := Inode{Kind: first.Kind, Node: first}
		for _, n := range members {
			in.Paths = append(in.Paths, n.Path)
		}
		if first.Kind == tree.Dir {
			in.Links = dirLinks(nix.subdirs(first.Path))
		} else {
			in.Links = uint32(len(members))
		}
		if ino := kept[g]; ino != 0 {
			in.Ref = OldRef(ino)
			in.Old = byIno[ino][0]
			if in.Kind == tree.Dir {
				in.OldLinks = dirLinks(oix.subdirs(in.Old.Path))
			} else {
				in.OldLinks = uint32(len(byIno[ino]))
			}
			in.Changes = metaChanges(in.Old, first)
			if in.Links != in.OldLinks {
				in.Changes |= ChangeLinks
			}
			if in.Kind == tree.Regular {
				in.Content = ContentCheck
			}
		} else {
			in.Ref = NewRef(p.NewInodes)
			p.NewInodes++
			if in.Kind == tree.Regular {
				in.Content = ContentWrite
			}
		}
		for _, path := range in.Paths {
			p.refs[path] = in.Ref
		}
		p.index[in.Ref] = len(p.Inodes)
		p.Inodes = append(p.Inodes, in)
	}
}

// metaChanges compares the metadata of an image node and a new node of the
// same type.
func metaChanges(o, n *tree.Node) Change {
	var c Change
	if o.Mode != n.Mode {
		c |= ChangeMode
	}
	if o.UID != n.UID {
		c |= ChangeUID
	}
	if o.GID != n.GID {
		c |= ChangeGID
	}
	if o.Mtime != n.Mtime {
		c |= ChangeMtime
	}
	if !xattrsEqual(o.Xattrs, n.Xattrs) {
		c |= ChangeXattrs
	}
	if n.Kind == tree.Symlink && o.Target != n.Target {
		c |= ChangeTarget
	}
	if (n.Kind == tree.CharDev || n.Kind == tree.BlockDev) && (o.Major != n.Major || o.Minor != n.Minor) {
		c |= ChangeRdev
	}
	return c
}

func xattrsEqual(a, b []tree.Xattr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || string(a[i].Value) != string(b[i].Value) {
			return false
		}
	}
	return true
}

// removals lists every image path that loses its entry, deepest first,
// and marks where each freed inode loses its last one.
func (p *Plan) removals(oix *index, inode map[string]uint32) {
	used := make(map[uint32]bool, len(p.refs))
	for _, r := range p.refs {
		if ino, ok := r.Ino(); ok {
			used[ino] = true
		}
	}
	for _, o := range oix.nodes[1:] { // the root is always kept
		ino := inode[o.Path]
		if r, ok := p.refs[o.Path]; ok && r == OldRef(ino) {
			continue
		}
		p.Remove = append(p.Remove, Removal{Path: o.Path, Kind: o.Kind, Inode: ino})
	}
	sort.Slice(p.Remove, func(i, j int) bool {
		di, dj := depth(p.Remove[i].Path), depth(p.Remove[j].Path)
		if di != dj {
			return di > dj
		}
		return p.Remove[i].Path < p.Remove[j].Path
	})
	last := make(map[uint32]int)
	for i, r := range p.Remove {
		if !used[r.Inode] {
			last[r.Inode] = i
		}
	}
	for ino, i := range last {
		p.Remove[i].Free = true
		p.Freed = append(p.Freed, ino)
	}
	sort.Slice(p.Freed, func(i, j int) bool { return p.Freed[i] < p.Freed[j] })
}

func depth(path string) int {
	return strings.Count(path, "/")
}

// dirs diffs the entries of every directory of the new tree against the
// image's.
func (p *Plan) dirs(oix, nix *index, inode map[string]uint32) {
	for _, n := range nix.nodes {
		if n.Kind != tree.Dir {
			continue
		}
		d := DirChange{Path: n.Path, Ref: p.refs[n.Path]}
		oldEntries := make(map[string]Entry)
		if !d.Ref.IsNew() { // a kept directory is the image's at this path
			for _, c := range oix.children[n.Path] {
				oldEntries[c.Name()] = Entry{Name: c.Name(), Ref: OldRef(inode[c.Path]), Kind: c.Kind}
			}
		}
		newNames := make(map[string]bool)
		for _, c := range nix.children[n.Path] {
			e := Entry{Name: c.Name(), Ref: p.refs[c.Path], Kind: c.Kind}
			newNames[e.Name] = true
			o, ok := oldEntries[e.Name]
			switch {
			case !ok:
				d.Added = append(d.Added, e)
			case o != e:
				d.Changed = append(d.Changed, EntryChange{Old: o, New: e})
			}
		}
		if !d.Ref.IsNew() {
			for _, c := range oix.children[n.Path] {
				if !newNames[c.Name()] {
					d.Removed = append(d.Removed, oldEntries[c.Name()])
				}
			}
		}
		if len(d.Added)+len(d.Removed)+len(d.Changed) > 0 {
			p.Dirs = append(p.Dirs, d)
		}
	}
}
