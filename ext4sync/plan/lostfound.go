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
// the directory. The second result lists the paths taken from the image:
// their content is the image's, not the source's.
func keepLostFound(old Old, src *tree.Tree) (*tree.Tree, map[string]bool) {
	if src.Lookup(LostFound) != nil || old.Tree == nil {
		return src, nil
	}
	lf := old.Tree.Lookup(LostFound)
	if lf == nil || lf.Kind != tree.Dir {
		return src, nil
	}
	kept := make(map[string]bool)
	nodes := append([]*tree.Node(nil), src.Nodes...)
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
