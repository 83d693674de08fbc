package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// index is a checked view of one tree: nodes by path and each directory's
// children in name order.
type index struct {
	nodes    []*tree.Node // sorted by path; nodes[0] is the root
	byPath   map[string]*tree.Node
	children map[string][]*tree.Node
}

// indexTree checks that t is a well-formed tree (a root directory, unique
// paths, every parent a directory, known kinds) and indexes it. which
// names the tree in errors.
func indexTree(t *tree.Tree, which string) (*index, error) {
	if t == nil {
		return nil, fmt.Errorf("plan: %s tree is nil", which)
	}
	ix := &index{
		nodes:    make([]*tree.Node, 0, len(t.Nodes)),
		byPath:   make(map[string]*tree.Node, len(t.Nodes)),
		children: make(map[string][]*tree.Node),
	}
	for i, n := range t.Nodes {
		if n == nil {
			return nil, fmt.Errorf("plan: %s tree: node %d is nil", which, i)
		}
		ix.nodes = append(ix.nodes, n)
	}
	sort.SliceStable(ix.nodes, func(i, j int) bool { return ix.nodes[i].Path < ix.nodes[j].Path })
	for _, n := range ix.nodes {
		if _, dup := ix.byPath[n.Path]; dup {
			return nil, fmt.Errorf("plan: %s tree: path %q appears twice", which, n.Path)
		}
		if n.Kind < tree.Regular || n.Kind > tree.Socket {
			return nil, fmt.Errorf("plan: %s tree: %q has unknown kind %d", which, n.Path, n.Kind)
		}
		ix.byPath[n.Path] = n
		if n.Path == "" {
			if n.Kind != tree.Dir {
				return nil, fmt.Errorf("plan: %s tree: root is a %s, not a directory", which, n.Kind)
			}
			continue
		}
		if n.Name() == "" || strings.HasPrefix(n.Path, "/") {
			return nil, fmt.Errorf("plan: %s tree: malformed path %q", which, n.Path)
		}
		// Sorting puts a parent before its children, so it is indexed.
		parent := ix.byPath[n.Parent()]
		if parent == nil || parent.Kind != tree.Dir {
			return nil, fmt.Errorf("plan: %s tree: parent of %q is not a directory", which, n.Path)
		}
		ix.children[parent.Path] = append(ix.children[parent.Path], n)
	}
	if len(ix.nodes) == 0 || ix.nodes[0].Path != "" {
		return nil, fmt.Errorf("plan: %s tree has no root", which)
	}
	return ix, nil
}

// linkMax is EXT4_LINK_MAX: the most names an inode other than a
// directory may have (a directory with more subdirectories counts 1).
const linkMax = 65000

// dirLinks is the link count of a directory with subdirs subdirectories:
// "." and its entry in the parent (or ".." for the root), plus each
// subdirectory's "..". Past ext4's limit the count is 1 (dir_nlink).
func dirLinks(subdirs int) uint32 {
	if subdirs > linkMax-2 {
		return 1
	}
	return uint32(2 + subdirs)
}

// subdirs counts the directories directly in the directory at path.
func (ix *index) subdirs(path string) int {
	n := 0
	for _, c := range ix.children[path] {
		if c.Kind == tree.Dir {
			n++
		}
	}
	return n
}

// oldInodes groups the image's paths by inode number and checks the map
// is consistent: every path has an inode, one inode is one kind, and a
// directory inode has exactly one path.
func oldInodes(ix *index, inode map[string]uint32) (map[uint32][]*tree.Node, error) {
	byIno := make(map[uint32][]*tree.Node)
	for _, n := range ix.nodes {
		ino := inode[n.Path]
		if ino == 0 {
			return nil, fmt.Errorf("plan: old tree: %q has no inode number", n.Path)
		}
		if prev := byIno[ino]; len(prev) > 0 {
			if prev[0].Kind != n.Kind {
				return nil, fmt.Errorf("plan: old tree: inode %d is a %s at %q and a %s at %q",
					ino, prev[0].Kind, prev[0].Path, n.Kind, n.Path)
			}
			if n.Kind == tree.Dir {
				return nil, fmt.Errorf("plan: old tree: directory inode %d has two paths %q and %q", ino, prev[0].Path, n.Path)
			}
		}
		byIno[ino] = append(byIno[ino], n)
	}
	return byIno, nil
}

// linkGroups splits the new tree into inodes: nodes sharing a non-zero
// LinkID form one group, every other node is a group of its own. Groups
// come in order of their first path; members are sorted.
func linkGroups(ix *index) ([][]*tree.Node, error) {
	var groups [][]*tree.Node
	byID := make(map[uint64]int)
	for _, n := range ix.nodes {
		if n.LinkID == 0 {
			groups = append(groups, []*tree.Node{n})
			continue
		}
		if n.Kind == tree.Dir {
			return nil, fmt.Errorf("plan: new tree: directory %q has a hard-link id: %w", n.Path, ErrTree)
		}
		g, ok := byID[n.LinkID]
		if !ok {
			byID[n.LinkID] = len(groups)
			groups = append(groups, []*tree.Node{n})
			continue
		}
		if first := groups[g][0]; first.Kind != n.Kind {
			return nil, fmt.Errorf("plan: new tree: hard links %q (%s) and %q (%s) differ in type: %w",
				first.Path, first.Kind, n.Path, n.Kind, ErrTree)
		}
		groups[g] = append(groups[g], n)
	}
	for _, g := range groups {
		if len(g) > linkMax {
			return nil, fmt.Errorf("plan: new tree: %q has %d hard links, more than ext4's %d: %w", g[0].Path, len(g), linkMax, ErrTree)
		}
	}
	return groups, nil
}
