package plan

import (
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// LostFound is the directory mkfs creates in every image's root for e2fsck.
const LostFound = "lost+found"

// keepLostFound returns the tree to sync onto the image: src itself, or,
// when src has no /lost+found and the image has one, src plus the image's
// /lost+found with everything in it, exactly as the image has them. That is
// what `mkfs.ext4 -d` does (it always creates lost+found and only takes
// its metadata from the source when the source has one), and e2fsck needs
// the directory. A source's lost+found that only mkfs made counts as none:
// when src is itself an ext4 image, its lost+found carries that image's
// mkfs times, which are not the rootfs's content (see mkfsOnly). The
// second result lists the paths taken from the image: their content is
// the image's, not the source's.
func keepLostFound(old Old, src *tree.Tree) (*tree.Tree, map[string]bool) {
	if old.Tree == nil {
		return src, nil
	}
	lf := old.Tree.Lookup(LostFound)
	if lf == nil || lf.Kind != tree.Dir {
		return src, nil
	}
	nodes := make([]*tree.Node, 0, len(src.Nodes)+1)
	if s := src.Lookup(LostFound); s != nil {
		if !mkfsOnly(s, lf, src, old.Tree) {
			return src, nil
		}
		for _, n := range src.Nodes {
			if n != s {
				nodes = append(nodes, n)
			}
		}
	} else {
		nodes = append(nodes, src.Nodes...)
	}
	kept := make(map[string]bool)
	prefix := LostFound + "/"
	for _, n := range old.Tree.Nodes {
		if n.Path != LostFound && !strings.HasPrefix(n.Path, prefix) {
			continue
		}
		c := *n
		// A hard-link id of the image means nothing in src's id space;
		// lost+found holds no links to the rest of a sane image.
		c.LinkID = 0
		nodes = append(nodes, &c)
		kept[c.Path] = true
	}
	return tree.New(nodes, src.Contents), kept
}

// mkfsOnly reports whether the source's lost+found s differs from the
// image's lf in nothing a user could have set: both are empty directories
// with the same permissions, owner, group and xattrs, so only their times
// (stamped by each image's own mkfs run) can differ. The image's is then
// kept, and the same rootfs gives the same image whether it comes as a
// directory, a tar or an ext4 image.
func mkfsOnly(s, lf *tree.Node, src, img *tree.Tree) bool {
	return s.Kind == tree.Dir && s.Mode == lf.Mode && s.UID == lf.UID && s.GID == lf.GID &&
		xattrsEqual(s.Xattrs, lf.Xattrs) && !hasChildren(src, LostFound) && !hasChildren(img, LostFound)
}

// hasChildren reports whether t holds anything under the directory dir.
func hasChildren(t *tree.Tree, dir string) bool {
	prefix := dir + "/"
	for _, n := range t.Nodes {
		if strings.HasPrefix(n.Path, prefix) {
			return true
		}
	}
	return false
}
