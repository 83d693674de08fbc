package ext4sync

import (
	"fmt"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/plan"
)

// addEntries adds the entries of every directory that gains names, parents first.
// Removed names and the old side of changed ones are gone already.
func (a *applier) addEntries() error {
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
