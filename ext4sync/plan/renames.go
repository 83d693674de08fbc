package plan

import (
	"path"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// A renamed file (or every file of a renamed directory) is, to the tree
// diff, an old inode freed and a new one created: its whole content would
// be written again into new blocks. The plan instead gives a new regular
// file a freed regular file's inode when they look like the same file
// (Plan.Adopt), so the content pass lays the new content over the old
// blocks: blocks that did not change stay where they are and cost nothing,
// the rest are overwritten in place or (when the Placement says it is
// cheaper) the file is relocated. Candidates, best first:
//
//  1. the same size and mtime, to the nanosecond: a pure rename, which
//     then writes no data at all;
//  2. the same name in another directory (a file of a renamed directory,
//     such as /lib/modules/6.1.0-21 becoming 6.1.0-22, changed or not),
//     the one whose path shares the longest tail of components first;
//  3. the same path once every run of digits is set aside (a library
//     renamed with its version, libfoo.so.1.2.3 becoming libfoo.so.1.2.4,
//     possibly in a renamed directory too), the closest in size first.
//
// Pairs are made in plan order (new inodes by first path, freed ones in
// removal order among equals), so the result is deterministic. A wrong
// guess costs about what a plain create would have: the old blocks are
// freed or overwritten instead of new ones written.

// renameKey identifies a regular file by what a rename keeps.
type renameKey struct {
	size  int64
	mtime tree.Time
}

// freedFile is a regular file the plan frees, a candidate for reuse.
type freedFile struct {
	ino   uint32
	path  string
	size  int64
	taken bool
}

// pairRenames picks, for new regular-file inodes of the plan, a freed
// regular-file inode of the image to adopt. It returns the old inode by
// new-inode index, and the set of old inodes that are adopted rather than
// freed.
func pairRenames(p *Plan, old Old) (map[int]uint32, map[uint32]bool) {
	var freed []*freedFile
	exact := make(map[renameKey][]*freedFile)
	byName := make(map[string][]*freedFile)
	bySkeleton := make(map[string][]*freedFile)
	for _, rm := range p.Remove {
		if !rm.Free || rm.Kind != tree.Regular {
			continue
		}
		n := old.Tree.Lookup(rm.Path)
		if n == nil || n.Kind != tree.Regular || n.Size == 0 {
			continue
		}
		f := &freedFile{ino: rm.Inode, path: rm.Path, size: n.Size}
		freed = append(freed, f)
		k := renameKey{n.Size, n.Mtime}
		exact[k] = append(exact[k], f)
		byName[n.Name()] = append(byName[n.Name()], f)
		bySkeleton[skeleton(rm.Path)] = append(bySkeleton[skeleton(rm.Path)], f)
	}
	if len(freed) == 0 {
		return nil, nil
	}
	byNew := make(map[int]uint32)
	reused := make(map[uint32]bool)
	take := func(idx int, f *freedFile) {
		f.taken = true
		byNew[idx] = f.ino
		reused[f.ino] = true
	}
	var rest []int // plan indexes of new files left after pass 1
	for i := range p.Inodes {
		in := &p.Inodes[i]
		idx, isNew := in.Ref.NewIndex()
		if !isNew || in.Kind != tree.Regular || in.Node.Size == 0 {
			continue
		}
		if f := first(exact[renameKey{in.Node.Size, in.Node.Mtime}], nil); f != nil {
			take(idx, f)
			continue
		}
		rest = append(rest, i)
	}
	var last []int
	for _, i := range rest {
		in := &p.Inodes[i]
		idx, _ := in.Ref.NewIndex()
		np := in.Node.Path
		if f := first(byName[in.Node.Name()], func(f *freedFile) int { return -sharedTail(f.path, np) }); f != nil {
			take(idx, f)
			continue
		}
		last = append(last, i)
	}
	for _, i := range last {
		in := &p.Inodes[i]
		idx, _ := in.Ref.NewIndex()
		size := in.Node.Size
		if f := first(bySkeleton[skeleton(in.Node.Path)], func(f *freedFile) int { return int(min(absDiff(f.size, size), 1<<40)) }); f != nil {
			take(idx, f)
		}
	}
	return byNew, reused
}

// first returns the untaken candidate with the lowest rank (nil: all
// rank 0), the earliest among equals; nil if none is left.
func first(cands []*freedFile, rank func(*freedFile) int) *freedFile {
	var best *freedFile
	bestRank := 0
	for _, f := range cands {
		if f.taken {
			continue
		}
		r := 0
		if rank != nil {
			r = rank(f)
		}
		if best == nil || r < bestRank {
			best, bestRank = f, r
		}
	}
	return best
}

// sharedTail counts the trailing path components a and b share.
func sharedTail(a, b string) int {
	n := 0
	for a != "" && b != "" {
		da, fa := path.Split(a)
		db, fb := path.Split(b)
		if fa != fb {
			break
		}
		n++
		a, b = strings.TrimSuffix(da, "/"), strings.TrimSuffix(db, "/")
	}
	return n
}

// skeleton is a path with every run of digits replaced by one '#'.
func skeleton(p string) string {
	var b strings.Builder
	digits := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= '0' && c <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteByte(c)
	}
	return b.String()
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}
