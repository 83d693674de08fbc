package ext4sync

import (
	"fmt"
	"math"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

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
	k, ok := in.Ref.NewIndex()
	path := in.Node.Path
	if !ok || k >= len(a.newIno) || a.newIno[k] != 0 {
		return fmt.Errorf("ext4sync: plan: %s: bad new inode %v", displayPath(path), in.Ref)
	}
	if ino, ok := a.p.Adopt[k]; ok {
		return a.adopt(in, k, ino)
	}
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
	changes := plan.ChangeTarget | plan.ChangeRdev
	if len(in.Node.Xattrs) > 0 {
		changes |= plan.ChangeXattrs
	}
	return a.setAll(h, in, changes)
}

// adopt gives the new inode k of the plan the freed image inode ino
// (Plan.Adopt) and sets all of its metadata; the content pass then
// compares its data in place.
func (a *applier) adopt(in *plan.Inode, k int, ino uint32) error {
	path := in.Node.Path
	a.rec.charge(path, ino)
	h, err := a.get(ino, path)
	if err != nil {
		return err
	}
	if h.in.Kind() != in.Kind {
		return fmt.Errorf("ext4sync: reuse inode %d (a %s) for %s (a %s)", ino, h.in.Kind(), displayPath(path), in.Kind)
	}
	a.newIno[k] = ino
	h.path, h.dirty = path, true
	h.in.SetLinks(linkCount(in.Links))
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
	if changes&plan.ChangeXattrs != 0 {
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

// linkCount is a plan's link count as i_links_count; the plan never asks
// for more than ext4's limit (dir_nlink gives big directories 1).
func linkCount(n uint32) uint16 {
	if n > math.MaxUint16 {
		return 1
	}
	return uint16(n)
}
