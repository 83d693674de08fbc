package ext4sync

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// place places every file's content, in an order fixed by the tree and
// the image alone:
//
//  1. files that get a new inode, in plan order (path order): they need
//     blocks whatever happens, and the room they leave in the units they
//     open can take relocated files at no cost;
//  2. files that keep an image inode (their own, or a freed one a rename
//     hands them): when the Placement is a fs.Rewriter it chooses, per
//     file, between overwriting the differing blocks in place and
//     relocating the whole content. Files are decided by how many blocks
//     they would overwrite, most first, so the units the big changes
//     make dirty (in place, or opened by a relocation) are known when the
//     small ones are decided: a small change then lands in a unit that is
//     already paid for. Without a Rewriter, every file stays in place, in
//     plan order.
func (a *applier) place(order []*contentFile) error {
	var fresh, kept []*contentFile
	for _, cf := range order {
		ino, err := a.ino(cf.in.Ref)
		if err != nil {
			return err
		}
		cf.ino = ino
		if a.adopted(cf) {
			kept = append(kept, cf)
		} else {
			fresh = append(fresh, cf)
		}
	}
	total, done := int64(len(order)), int64(0)
	step := func() error {
		err := a.step(PhasePlace, done, total)
		done++
		return err
	}
	for _, cf := range fresh {
		if err := step(); err != nil {
			return err
		}
		if err := a.placeFile(cf, fs.InPlace); err != nil {
			return err
		}
	}
	changes, err := a.changes(kept)
	if err != nil {
		return err
	}
	for _, k := range changes {
		if err := step(); err != nil {
			return err
		}
		how := fs.InPlace
		if k.change != nil {
			if how, err = a.f.AdviseRewrite(*k.change); err != nil {
				return fmt.Errorf("ext4sync: place content of %s: %w", displayPath(k.cf.in.Node.Path), err)
			}
			if how == fs.InPlace {
				a.f.ExpectWrites(k.change.Differs)
			}
		}
		if err := a.placeFile(k.cf, how); err != nil {
			return err
		}
	}
	progress(a.o, PhasePlace, total, total)
	a.rec.idle()
	return nil
}

// adopted reports whether cf's inode is one the image already has (so its
// blocks can be kept in place): a kept inode, or a freed one reused.
func (a *applier) adopted(cf *contentFile) bool {
	if !cf.in.Ref.IsNew() {
		return true
	}
	k, _ := cf.in.Ref.NewIndex()
	_, ok := a.p.Adopt[k]
	return ok
}

// keptChange is a kept file and, when the Placement chooses how to
// rewrite files, what an in-place write would do.
type keptChange struct {
	cf     *contentFile
	change *fs.FileChange
}

// changes orders the kept files for placing (see place).
func (a *applier) changes(kept []*contentFile) ([]keptChange, error) {
	out := make([]keptChange, len(kept))
	for i, cf := range kept {
		out[i].cf = cf
	}
	if !a.f.Rewrites() {
		return out, nil
	}
	for i := range out {
		cf := out[i].cf
		h, err := a.get(cf.ino, cf.in.Node.Path)
		if err != nil {
			return nil, err
		}
		c, err := h.in.Change(cf.blocks, cf.same)
		if err != nil {
			return nil, fmt.Errorf("ext4sync: compare content of %s: %w", displayPath(cf.in.Node.Path), err)
		}
		out[i].change = &c
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].change.Differs) > len(out[j].change.Differs) })
	return out, nil
}

// placeFile places one file's blocks.
func (a *applier) placeFile(cf *contentFile, how fs.Rewrite) error {
	path := cf.in.Node.Path
	a.rec.charge(path, cf.ino)
	h, err := a.get(cf.ino, path)
	if err != nil {
		return err
	}
	cf.how = how
	cf.st, err = h.in.Place(cf.blocks, cf.in.Node.Size, file.PlaceOptions{How: how, Reuse: a.reuseBlock})
	if err != nil {
		return fmt.Errorf("ext4sync: place content of inode %d (%s): %w", cf.ino, displayPath(path), err)
	}
	return nil
}
