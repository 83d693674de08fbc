package ext4sync

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// open is an inode the sync holds between phases: loaded or created once,
// edited by every phase that needs it, saved once at the end.
type open struct {
	in   *file.Inode
	d    *dir.Dir // directories, once opened
	path string   // the path the inode's work is charged to
	// dirty: the sync changed the inode, so it gets the new tree's
	// metadata (and the time policy) before it is saved.
	dirty bool
}

// applier runs one plan on one filesystem.
type applier struct {
	f    *fs.FS
	p    *plan.Plan
	old  plan.Old
	want *tree.Tree
	o    Options
	fo   file.Options
	rec  *recorder

	// skipContent lists paths whose content is the image's own (see
	// keepLostFound); the source does not provide it.
	skipContent map[string]bool

	newIno  []uint32            // the inode number each new ref got
	held    map[uint32]*open    // by inode number
	changed map[plan.Ref]bool   // kept inodes whose metadata or content changed
	visited map[plan.Ref]bool   // regular files whose content the source gave
	stats   map[plan.Ref]uint64 // blocks written per inode (content)
}

func newApplier(f *fs.FS, p *plan.Plan, old plan.Old, want *tree.Tree, o Options, rec *recorder) *applier {
	return &applier{
		f: f, p: p, old: old, want: want, o: o, fo: fileOptions(o), rec: rec,
		newIno:  make([]uint32, p.NewInodes),
		held:    make(map[uint32]*open),
		changed: make(map[plan.Ref]bool),
		visited: make(map[plan.Ref]bool),
		stats:   make(map[plan.Ref]uint64),
	}
}

// run applies the plan in its order and flushes the filesystem.
func (a *applier) run() error {
	if err := a.removals(); err != nil {
		return err
	}
	if err := a.inodes(); err != nil {
		return err
	}
	if err := a.contents(); err != nil {
		return err
	}
	if err := a.dirs(); err != nil {
		return err
	}
	return a.save()
}

// step reports progress and stops the sync when its context is done.
func (a *applier) step(phase string, done, total int64) error {
	if err := checkContext(a.o); err != nil {
		return err
	}
	progress(a.o, phase, done, total)
	return nil
}

// ino resolves a ref to an inode number; new refs must be created already.
func (a *applier) ino(r plan.Ref) (uint32, error) {
	if ino, ok := r.Ino(); ok {
		return ino, nil
	}
	if k, ok := r.NewIndex(); ok && k < len(a.newIno) && a.newIno[k] != 0 {
		return a.newIno[k], nil
	}
	return 0, fmt.Errorf("ext4sync: %v used before it was created", r)
}

// get returns the held inode ino, loading it the first time.
func (a *applier) get(ino uint32, path string) (*open, error) {
	if h := a.held[ino]; h != nil {
		return h, nil
	}
	in, err := file.Load(a.f, ino)
	if err != nil {
		return nil, fmt.Errorf("ext4sync: load inode %d (%s): %w", ino, displayPath(path), err)
	}
	in.SetOptions(a.fo) // the time policy for when it is written
	h := &open{in: in, path: path}
	a.held[ino] = h
	return h, nil
}

// dirOf returns the directory of a held inode, opening it once.
func (a *applier) dirOf(h *open) (*dir.Dir, error) {
	if h.d != nil {
		return h.d, nil
	}
	if h.in.Kind() != tree.Dir {
		return nil, fmt.Errorf("ext4sync: inode %d (%s) is a %s, not a directory", h.in.Ino(), displayPath(h.path), h.in.Kind())
	}
	d, err := h.in.Dir()
	if err != nil {
		return nil, fmt.Errorf("ext4sync: open directory inode %d (%s): %w", h.in.Ino(), displayPath(h.path), err)
	}
	h.d = d
	return d, nil
}

// removals unlinks every path the plan removes, deepest first, and frees
// the inodes that lose their last path, so later allocations can reuse
// their numbers and blocks. Link counts of inodes that stay are set with
// the other metadata, from the plan.
func (a *applier) removals() error {
	total := int64(len(a.p.Remove))
	for i, rm := range a.p.Remove {
		if err := a.step(PhaseRemove, int64(i), total); err != nil {
			return err
		}
		parentPath := parentOf(rm.Path)
		pino := a.old.Inode[parentPath]
		if pino == 0 {
			return fmt.Errorf("ext4sync: remove %s: parent has no inode", displayPath(rm.Path))
		}
		a.rec.charge(rm.Path, rm.Inode)
		parent, err := a.get(pino, parentPath)
		if err != nil {
			return err
		}
		d, err := a.dirOf(parent)
		if err != nil {
			return err
		}
		if err := d.Remove(baseName(rm.Path)); err != nil {
			return fmt.Errorf("ext4sync: remove %s from directory inode %d: %w", displayPath(rm.Path), pino, err)
		}
		parent.dirty = true
		if !rm.Free {
			continue
		}
		h, err := a.get(rm.Inode, rm.Path)
		if err != nil {
			return err
		}
		if err := h.in.Free(); err != nil {
			return fmt.Errorf("ext4sync: free inode %d (%s): %w", rm.Inode, displayPath(rm.Path), err)
		}
		delete(a.held, rm.Inode)
	}
	a.rec.idle()
	progress(a.o, PhaseRemove, total, total)
	return nil
}

// inodes creates every new inode and edits every kept one whose metadata
// changed, in the plan's order (a directory before what is in it).
func (a *applier) inodes() error {
	total := int64(len(a.p.Inodes))
	for i := range a.p.Inodes {
		if err := a.step(PhaseInodes, int64(i), total); err != nil {
			return err
		}
		in := &a.p.Inodes[i]
		var err error
		if in.Ref.IsNew() {
			err = a.create(in)
		} else if in.Changes != 0 {
			err = a.edit(in)
		}
		if err != nil {
			return err
		}
	}
	a.rec.idle()
	progress(a.o, PhaseInodes, total, total)
	return nil
}

// create allocates and fills a new inode; its content and entries come in
// later phases.
func (a *applier) create(in *plan.Inode) error {
	k, _ := in.Ref.NewIndex()
	path := in.Node.Path
	pino, err := a.parentIno(path)
	if err != nil {
		return err
	}
	a.rec.charge(path, 0)
	fi, err := file.Create(a.f, in.Kind, pino, a.fo)
	if err != nil {
		return fmt.Errorf("ext4sync: create %s for %s: %w", in.Kind, displayPath(path), err)
	}
	a.newIno[k] = fi.Ino()
	a.rec.charge(path, fi.Ino())
	h := &open{in: fi, path: path, dirty: true}
	a.held[fi.Ino()] = h
	if in.Kind == tree.Dir {
		if err := fi.InitDir(pino); err != nil {
			return fmt.Errorf("ext4sync: init directory inode %d (%s): %w", fi.Ino(), displayPath(path), err)
		}
	}
	fi.SetLinks(linkCount(in.Links))
	return a.setAll(h, in, plan.ChangeXattrs|plan.ChangeTarget|plan.ChangeRdev)
}

// edit applies a kept inode's metadata changes.
func (a *applier) edit(in *plan.Inode) error {
	ino, _ := in.Ref.Ino()
	a.rec.charge(in.Node.Path, ino)
	h, err := a.get(ino, in.Node.Path)
	if err != nil {
		return err
	}
	h.path = in.Node.Path
	h.dirty = true
	a.changed[in.Ref] = true
	if in.Changes&plan.ChangeLinks != 0 {
		h.in.SetLinks(linkCount(in.Links))
	}
	return a.setAll(h, in, in.Changes)
}

// setAll sets the metadata of in.Node that changes lists (mode, owners and
// times always: SetMeta compares them itself).
func (a *applier) setAll(h *open, in *plan.Inode, changes plan.Change) error {
	n, fi := in.Node, h.in
	fi.SetMeta(n)
	if changes&plan.ChangeXattrs != 0 && (len(n.Xattrs) > 0 || !in.Ref.IsNew()) {
		if _, err := fi.SetXattrs(n.Xattrs); err != nil {
			return fmt.Errorf("ext4sync: xattrs of inode %d (%s): %w", fi.Ino(), displayPath(n.Path), err)
		}
	}
	if changes&plan.ChangeTarget != 0 && n.Kind == tree.Symlink {
		if _, err := fi.SetTarget(n.Target); err != nil {
			return fmt.Errorf("ext4sync: target of inode %d (%s): %w", fi.Ino(), displayPath(n.Path), err)
		}
	}
	if changes&plan.ChangeRdev != 0 && (n.Kind == tree.CharDev || n.Kind == tree.BlockDev) {
		fi.SetRdev(n.Major, n.Minor)
	}
	return nil
}

// parentIno is the inode of the directory that will hold path in the new
// tree.
func (a *applier) parentIno(path string) (uint32, error) {
	r, ok := a.p.Ref(parentOf(path))
	if !ok {
		return 0, fmt.Errorf("ext4sync: %s: parent not in the plan", displayPath(path))
	}
	return a.ino(r)
}

// dirs adds the entries of every directory that gains names, parents first.
// Removed names and the old side of changed ones are gone already.
func (a *applier) dirs() error {
	total := int64(len(a.p.Dirs))
	for i := range a.p.Dirs {
		if err := a.step(PhaseDirs, int64(i), total); err != nil {
			return err
		}
		dc := &a.p.Dirs[i]
		adds := append([]plan.Entry(nil), dc.Added...)
		for _, c := range dc.Changed {
			adds = append(adds, c.New)
		}
		if len(adds) == 0 {
			continue
		}
		dino, err := a.ino(dc.Ref)
		if err != nil {
			return err
		}
		a.rec.charge(dc.Path, dino)
		h, err := a.get(dino, dc.Path)
		if err != nil {
			return err
		}
		d, err := a.dirOf(h)
		if err != nil {
			return err
		}
		h.dirty = true
		sort.Slice(adds, func(i, j int) bool { return adds[i].Name < adds[j].Name })
		for _, e := range adds {
			ino, err := a.ino(e.Ref)
			if err != nil {
				return err
			}
			if err := d.Add(dir.Entry{Name: e.Name, Inode: ino, Type: file.DirType(e.Kind)}); err != nil {
				return fmt.Errorf("ext4sync: add %s (inode %d) to directory inode %d: %w",
					displayPath(joinPath(dc.Path, e.Name)), ino, dino, err)
			}
		}
	}
	a.rec.idle()
	progress(a.o, PhaseDirs, total, total)
	return nil
}

// save writes every held inode, in inode order so the result does not
// depend on map order, then flushes bitmaps, descriptors and superblock.
func (a *applier) save() error {
	inos := make([]uint32, 0, len(a.held))
	for ino := range a.held {
		inos = append(inos, ino)
	}
	sort.Slice(inos, func(i, j int) bool { return inos[i] < inos[j] })
	total := int64(len(inos))
	for i, ino := range inos {
		if err := a.step(PhaseSave, int64(i), total); err != nil {
			return err
		}
		h := a.held[ino]
		a.rec.charge(h.path, ino)
		if h.dirty {
			if n := a.want.Lookup(h.path); n != nil && n.Kind == h.in.Kind() {
				h.in.SetMeta(n)
			}
		}
		if err := h.in.Save(); err != nil {
			return fmt.Errorf("ext4sync: save inode %d (%s): %w", ino, displayPath(h.path), err)
		}
	}
	a.rec.idle()
	if err := a.f.Flush(); err != nil {
		return fmt.Errorf("ext4sync: flush: %w", err)
	}
	progress(a.o, PhaseSave, total, total)
	return nil
}
