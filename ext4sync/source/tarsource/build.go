package tarsource

import (
	"fmt"
	"os"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// build checks that every path's parent is a directory the archive made
// and returns the tree: one node per path, hard links sharing a LinkID
// (one plus the index of the group's first path in sorted order).
func (r *reader) build(st os.FileInfo) (*tree.Tree, error) {
	paths := make([]string, 0, len(r.paths))
	for p := range r.paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if p == "" {
			continue
		}
		parent, ok := r.paths[parentOf(p)]
		switch {
		case !ok:
			return nil, fmt.Errorf("tarsource: %s: %s: %w: %s", r.archive, display(p), ErrMissingParent, display(parentOf(p)))
		case parent.node.Kind == tree.Symlink:
			return nil, fmt.Errorf("tarsource: %s: %s: %w: %s is a symlink", r.archive, display(p), ErrThroughSymlink, display(parentOf(p)))
		case parent.node.Kind != tree.Dir:
			return nil, fmt.Errorf("tarsource: %s: %s: %w: %s is a %s", r.archive, display(p), ErrMissingParent, display(parentOf(p)), parent.node.Kind)
		}
	}
	count := make(map[*inode]int)
	for _, p := range paths {
		count[r.paths[p]]++
	}
	first := make(map[*inode]int) // inode -> index of its first path
	nodes := make([]*tree.Node, 0, len(paths))
	c := &contents{archive: r.archive, size: st.Size(), mtime: st.ModTime(), digests: make(map[string]tree.Digests)}
	for i, p := range paths {
		in := r.paths[p]
		n := in.node
		n.Path = p
		n.Xattrs = append([]tree.Xattr(nil), in.node.Xattrs...)
		if n.Kind != tree.Dir && count[in] > 1 {
			if _, ok := first[in]; !ok {
				first[in] = i
			}
			n.LinkID = uint64(first[in]) + 1
		}
		nodes = append(nodes, &n)
		if in.entry >= 0 {
			c.digests[p] = r.digests[in.entry]
		}
		if in.entry >= 0 && (count[in] == 1 || first[in] == i) {
			c.files = append(c.files, fileRef{node: &n, entry: in.entry, name: in.name})
		}
	}
	sort.Slice(c.files, func(i, j int) bool { return c.files[i].entry < c.files[j].entry })
	r.digests = nil
	return tree.New(nodes, c), nil
}
