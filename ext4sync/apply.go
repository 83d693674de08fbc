package ext4sync

import (
	"context"
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

// applier executes one plan on one filesystem: every decision is the
// plan's (and the Placement's, which the FS asks); the applier holds only
// what executing needs.
type applier struct {
	ctx context.Context
	f   *fs.FS
	p   *plan.Plan
	old plan.Old
	o   Options
	fo  file.Options
	rec *recorder

	newIno []uint32         // the inode number each new ref got
	held   map[uint32]*open // by inode number
	// edited are the inodes held when the content passes began: edited
	// by the earlier phases, they stay held until saved. The others are
	// held only while the content passes need them (see finish).
	edited  map[uint32]bool
	changed map[plan.Ref]bool   // kept inodes whose metadata or content changed
	visited map[plan.Ref]bool   // regular files whose content the source gave
	stats   map[plan.Ref]uint64 // blocks written per inode (content)
	freed   *plan.FreedContent  // data blocks removals free, by content (nil: none)
}

func newApplier(ctx context.Context, f *fs.FS, p *plan.Plan, old plan.Old, o Options, rec *recorder) *applier {
	return &applier{
		ctx: ctx, f: f, p: p, old: old, o: o, fo: fileOptions(o), rec: rec,
		newIno:  make([]uint32, p.NewInodes),
		held:    make(map[uint32]*open),
		changed: make(map[plan.Ref]bool),
		visited: make(map[plan.Ref]bool),
		stats:   make(map[plan.Ref]uint64),
	}
}

// run applies the plan in its order and flushes the filesystem.
func (a *applier) run() error {
	if err := a.indexFreed(); err != nil {
		return err
	}
	if err := a.removals(); err != nil {
		return err
	}
	if err := a.inodes(); err != nil {
		return err
	}
	if err := a.contents(); err != nil {
		return err
	}
	if err := a.addEntries(); err != nil {
		return err
	}
	return a.save()
}

// step reports progress and stops the sync when its context is done.
func (a *applier) step(phase string, done, total int64) error {
	if err := a.ctx.Err(); err != nil {
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
			if n := a.p.Tree.Lookup(h.path); n != nil && n.Kind == h.in.Kind() {
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
