package ext4sync

// result counts what the sync did to the paths of both trees.
func (a *applier) result() *Result {
	res := &Result{Touched: a.rec.touched()}
	dirEdited := make(map[string]bool, len(a.p.Dirs))
	for _, d := range a.p.Dirs {
		dirEdited[d.Path] = true
	}
	for _, n := range a.p.Tree.Nodes {
		ino, had := a.old.Inode[n.Path]
		o := a.old.Tree.Lookup(n.Path)
		if !had || o == nil {
			res.Added++
			continue
		}
		ref, _ := a.p.Ref(n.Path)
		in := a.p.Inode(ref)
		if r, ok := ref.Ino(); !ok || r != ino || in == nil || in.Changes != 0 || a.changed[ref] || dirEdited[n.Path] {
			res.Changed++
			continue
		}
		res.Unchanged++
	}
	for _, o := range a.old.Tree.Nodes {
		if a.p.Tree.Lookup(o.Path) == nil {
			res.Removed++
		}
	}
	return res
}
