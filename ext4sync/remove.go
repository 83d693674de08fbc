package ext4sync

import (
	"fmt"
)

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
		if !rm.Free || a.p.Adopted(rm.Inode) {
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
