package plan

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// names is a small name space so random old and new trees overlap a lot.
var names = []string{"a", "b", "c", "d"}

var kinds = []tree.Kind{tree.Regular, tree.Dir, tree.Symlink, tree.CharDev, tree.BlockDev, tree.FIFO, tree.Socket}

func randomMeta(r *rand.Rand, n *tree.Node) {
	n.Mode = uint32(r.Intn(3)) * 0o111
	n.UID = uint32(r.Intn(2))
	n.GID = uint32(r.Intn(2))
	n.Mtime = tree.Time{Sec: int64(r.Intn(2)), Nsec: uint32(r.Intn(2))}
	if r.Intn(3) == 0 {
		n.Xattrs = []tree.Xattr{{Name: "user.x", Value: []byte{byte(r.Intn(2))}}}
	} else {
		n.Xattrs = nil
	}
	switch n.Kind {
	case tree.Symlink:
		n.Target = fmt.Sprint(r.Intn(2))
	case tree.CharDev, tree.BlockDev:
		n.Major, n.Minor = uint32(r.Intn(2)), uint32(r.Intn(2))
	}
}

// randomNodes makes a random tree (without hard links) under the root.
func randomNodes(r *rand.Rand) []*tree.Node {
	root := &tree.Node{Path: "", Kind: tree.Dir}
	randomMeta(r, root)
	nodes := []*tree.Node{root}
	var grow func(dir string, depth int)
	grow = func(dir string, depth int) {
		for _, name := range names {
			if r.Intn(3) == 0 {
				continue
			}
			path := name
			if dir != "" {
				path = dir + "/" + name
			}
			k := kinds[r.Intn(len(kinds))]
			if depth < 2 && r.Intn(2) == 0 {
				k = tree.Dir
			}
			if depth >= 2 && k == tree.Dir {
				k = tree.Regular
			}
			n := &tree.Node{Path: path, Kind: k}
			randomMeta(r, n)
			nodes = append(nodes, n)
			if k == tree.Dir {
				grow(path, depth+1)
			}
		}
	}
	grow("", 0)
	return nodes
}

// randomLinks groups random non-directory nodes of one kind into hard-link
// groups, copying the group leader's metadata (hard links are one inode).
func randomLinks(r *rand.Rand, nodes []*tree.Node, nextID *uint64) {
	for i := 0; i < 4; i++ {
		a, b := nodes[r.Intn(len(nodes))], nodes[r.Intn(len(nodes))]
		if a == b || a.Kind != b.Kind || a.Kind == tree.Dir {
			continue
		}
		if a.LinkID == 0 {
			*nextID++
			a.LinkID = *nextID
		}
		old := b.LinkID
		for _, n := range nodes {
			if n == b || (old != 0 && n.LinkID == old) {
				n.LinkID = a.LinkID
				path := n.Path
				*n = *a
				n.Path = path
			}
		}
	}
}

// randomOld makes an image: a random tree and inode numbers, hard links
// sharing one, numbered in a shuffled order.
func randomOld(r *rand.Rand) Old {
	nodes := randomNodes(r)
	var id uint64
	randomLinks(r, nodes, &id)
	inode := map[string]uint32{}
	byLink := map[uint64]uint32{}
	perm := r.Perm(len(nodes))
	for i, n := range nodes {
		ino := uint32(11 + perm[i])
		if n.Path == "" {
			ino = 2
		}
		if n.LinkID != 0 {
			if got, ok := byLink[n.LinkID]; ok {
				ino = got
			}
			byLink[n.LinkID] = ino
		}
		inode[n.Path] = ino
	}
	for _, n := range nodes {
		n.LinkID = 0 // the inode map is the image's truth
	}
	return Old{Tree: tree.New(nodes, nil), Inode: inode}
}

// randomNew derives a new tree from the image: keep most nodes, change
// some metadata and types, add and drop some, regroup some hard links.
func randomNew(r *rand.Rand, old Old) *tree.Tree {
	byIno := map[uint32][]string{}
	for _, n := range old.Tree.Nodes {
		byIno[old.Inode[n.Path]] = append(byIno[old.Inode[n.Path]], n.Path)
	}
	var nodes []*tree.Node
	var id uint64 = 1000
	gone := map[string]bool{}
	for _, n := range old.Tree.Nodes {
		if gone[n.Parent()] && n.Path != "" {
			gone[n.Path] = true
			continue
		}
		c := *n
		if n.Path != "" && r.Intn(8) == 0 {
			gone[n.Path] = true
			continue
		}
		if r.Intn(6) == 0 {
			randomMeta(r, &c)
		}
		if n.Path != "" && r.Intn(10) == 0 {
			if c.Kind == tree.Dir {
				gone[n.Path] = true // its children go too
			}
			c.Kind = kinds[r.Intn(len(kinds))]
			if c.Kind == tree.Dir {
				c.Kind = tree.FIFO
			}
			randomMeta(r, &c)
		}
		if ino := old.Inode[n.Path]; len(byIno[ino]) > 1 && c.Kind == n.Kind && r.Intn(4) != 0 {
			c.LinkID = uint64(ino) // keep the old group
		}
		nodes = append(nodes, &c)
	}
	// Groups are one inode: members take the first member's metadata.
	lead := map[uint64]*tree.Node{}
	for _, n := range nodes {
		if n.LinkID == 0 {
			continue
		}
		if l, ok := lead[n.LinkID]; ok {
			path := n.Path
			*n = *l
			n.Path = path
		} else {
			lead[n.LinkID] = n
		}
	}
	// Additions: random names under surviving directories.
	have := map[string]bool{}
	for _, n := range nodes {
		have[n.Path] = true
	}
	for i := 0; i < 3; i++ {
		d := nodes[r.Intn(len(nodes))]
		if d.Kind != tree.Dir {
			continue
		}
		path := names[r.Intn(len(names))]
		if d.Path != "" {
			path = d.Path + "/" + path
		}
		if have[path] {
			continue
		}
		n := &tree.Node{Path: path, Kind: kinds[r.Intn(len(kinds))]}
		randomMeta(r, n)
		have[path] = true
		nodes = append(nodes, n)
	}
	randomLinks(r, nodes, &id)
	return tree.New(nodes, nil)
}

func TestRandomPlans(t *testing.T) {
	const runs = 3000
	stats := map[string]int{}
	for seed := int64(0); seed < runs; seed++ {
		r := rand.New(rand.NewSource(seed))
		old := randomOld(r)
		var new *tree.Tree
		if seed%10 == 0 {
			new = tree.New(randomNodes(r), nil) // unrelated tree
		} else {
			new = randomNew(r, old)
		}
		p, err := Make(old, new)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		t.Run("", func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("seed %d\nold: %s\nnew: %s", seed, describe(old.Tree, old.Inode), describe(new, nil))
				}
			}()
			checkPlan(t, old, new, p)
		})
		if t.Failed() {
			return
		}
		stats["removals"] += len(p.Remove)
		stats["freed"] += len(p.Freed)
		stats["new"] += p.NewInodes
		for _, d := range p.Dirs {
			stats["changed entries"] += len(d.Changed)
		}
		for _, in := range p.Inodes {
			if len(in.Paths) > 1 && !in.Ref.IsNew() {
				stats["kept link groups"]++
			}
		}
		if p.Empty() {
			stats["empty"]++
		}
	}
	// The generator must reach every interesting case.
	for _, k := range []string{"removals", "freed", "new", "changed entries", "kept link groups", "empty"} {
		if stats[k] == 0 {
			t.Errorf("random trees never produced %s", k)
		}
	}
	t.Logf("%v", stats)
}

func describe(tr *tree.Tree, inode map[string]uint32) string {
	var s []string
	for _, n := range tr.Nodes {
		x := fmt.Sprintf("%q:%s", n.Path, n.Kind)
		if inode != nil {
			x += fmt.Sprintf("@%d", inode[n.Path])
		}
		if n.LinkID != 0 {
			x += fmt.Sprintf("#%d", n.LinkID)
		}
		s = append(s, x)
	}
	sort.Strings(s)
	return fmt.Sprint(s)
}
