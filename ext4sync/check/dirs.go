package check

import (
	"bytes"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// maxDirRead bounds one read of a directory's consecutive blocks.
const maxDirRead = 256

// Directory block kinds in an indexed directory (e2fsck's DX_DIRBLOCK_*).
const (
	kindRoot uint8 = 1
	kindLeaf uint8 = 2
	kindNode uint8 = 3
)

// checkDirectories is pass 2: every block of every directory, with the
// entries' targets checked against what pass 1 found, and the htree of an
// indexed directory checked as a whole.
func (c *checker) checkDirectories() error {
	n := uint64(c.lay.InodesCount) + 1
	c.counted = make([]uint32, n)
	c.parent = make([]uint32, n)
	c.dotdot = make([]uint32, n)
	c.parent[disk.RootIno] = disk.RootIno
	c.names = map[string]struct{}{}
	for i := range c.dirs {
		if err := c.checkDir(&c.dirs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) checkDir(d *dirInfo) error {
	var ht *htree
	if d.indexed {
		ht = &htree{ino: d.ino, blocks: make([]dxBlock, d.nblocks)}
	}
	bs := uint64(c.lay.BlockSize)
	for _, m := range d.maps {
		for k := uint64(0); k < uint64(m.Len); k += maxDirRead {
			n := min(uint64(m.Len)-k, maxDirRead)
			buf, err := c.readBlocksInto(c.dirBuf, m.Physical+k, n, "directory block")
			if err != nil {
				return err
			}
			c.dirBuf = buf
			for j := uint64(0); j < n; j++ {
				lblk := uint32(uint64(m.Logical) + k + j)
				if err := c.checkDirBlock(d, ht, lblk, m.Physical+k+j, buf[j*bs:(j+1)*bs]); err != nil {
					return err
				}
			}
		}
	}
	if ht != nil {
		return ht.check()
	}
	return nil
}

// checkDirBlock is check_dir_block for one block.
func (c *checker) checkDirBlock(d *dirInfo, ht *htree, lblk uint32, pblk uint64, b []byte) error {
	where := dirWhere{d.ino, pblk, lblk}
	csum := c.sb.HasMetadataCsum()
	kind := kindLeaf
	if ht != nil {
		switch {
		case lblk == 0:
			kind = kindRoot
		case dir.IsDxNode(b, csum):
			kind = kindNode
		}
		x := &ht.blocks[lblk]
		x.kind, x.pblk, x.min, x.max = kind, pblk, ^uint32(0), 0
	}
	if csum {
		var err error
		if kind == kindLeaf {
			err = dir.VerifyLeafChecksum(d.seed, b, lblk)
		} else {
			err = dir.VerifyDxChecksum(d.seed, b, kind == kindRoot, lblk)
		}
		if err != nil {
			return bad(where.String(), "%v", err)
		}
	}
	ents, err := dir.ParseLeaf(b, csum && kind == kindLeaf, lblk)
	if err != nil {
		return bad(where.String(), "%v", err)
	}
	if kind == kindRoot {
		if err := ht.root(c, b, where.String()); err != nil {
			return err
		}
	}
	seen := c.names
	clear(seen)
	for i, e := range ents {
		state := 2 // e2fsck's dot_state: 0 ".", 1 "..", 2 the rest
		if lblk == 0 && i < 2 {
			state = i
		}
		if err := c.checkDirent(d, ht, lblk, where, state, e); err != nil {
			return err
		}
		if e.Inode == 0 {
			continue
		}
		if _, dup := seen[string(e.Name)]; dup {
			return bad(where.String(), "name %q appears twice", e.Name)
		}
		seen[string(e.Name)] = struct{}{}
	}
	if lblk == 0 && len(ents) < 2 {
		return bad(where.String(), "no \".\" and \"..\" entries")
	}
	if kind != kindLeaf {
		return ht.index(c, lblk, b, kind == kindRoot, where.String())
	}
	return nil
}

// checkDirent applies pass 2's rules to one entry.
func (c *checker) checkDirent(d *dirInfo, ht *htree, lblk uint32, where dirWhere, state int, e dir.Dirent) error {
	sb := &c.sb
	switch state {
	case 0:
		switch {
		case e.Inode == 0:
			return bad(where.String(), "missing \".\"")
		case string(e.Name) != "." || e.Pad != 0:
			return bad(where.String(), "first entry %q is not \".\"", e.Name)
		case e.Inode != d.ino:
			return bad(where.String(), "\".\" names inode %d", e.Inode)
		}
	case 1:
		switch {
		case e.Inode == 0:
			return bad(where.String(), "missing \"..\"")
		case string(e.Name) != ".." || e.Pad != 0:
			return bad(where.String(), "second entry %q is not \"..\"", e.Name)
		}
		c.dotdot[d.ino] = e.Inode
	default:
		if e.Inode == d.ino && e.Inode != 0 {
			return bad(where.String(), "entry %q names the directory itself", e.Name)
		}
	}
	ino := e.Inode
	if ino == 0 {
		return nil
	}
	switch {
	case ino != disk.RootIno && ino < c.lay.FirstIno, ino > c.lay.InodesCount,
		ino == sb.UsrQuotaInum, ino == sb.GrpQuotaInum, ino == sb.PrjQuotaInum, ino == sb.OrphanFileInum:
		return bad(where.String(), "entry %q (inode %d) names a reserved or out-of-range inode", e.Name, ino)
	case state == 2 && string(e.Name) == ".":
		return bad(where.String(), "a second \".\" entry")
	case state == 2 && string(e.Name) == "..":
		return bad(where.String(), "a second \"..\" entry")
	case state == 2 && ino == disk.RootIno:
		return bad(where.String(), "entry %q (inode %d) links to the root directory", e.Name, ino)
	case state == 2 && len(e.Name) == 0:
		return bad(where.String(), "entry with an empty name (inode %d)", ino)
	}
	g, i := c.lay.GroupOfInode(ino)
	if c.uninit(g, disk.BgInodeUninit) {
		return bad(where.String(), "entry %q (inode %d) is in group %d, whose inodes are uninitialized", e.Name, ino, g)
	}
	if i >= c.usedInodes(g) {
		return bad(where.String(), "entry %q (inode %d) is in the never-used part of group %d's inode table", e.Name, ino, g)
	}
	if !c.inodeUsed.test(uint64(ino)) {
		return bad(where.String(), "entry %q (inode %d) names an inode that is not in use", e.Name, ino)
	}
	want := dir.FileType(c.ftype[ino])
	if !sb.FeatureIncompat.Has(disk.IncompatFiletype) {
		want = dir.TypeUnknown
	}
	if e.Type != want {
		return bad(where.String(), "entry %q (inode %d) has file type %d, but the inode's type is %d", e.Name, ino, e.Type, want)
	}
	if bytes.IndexByte(e.Name, '/') >= 0 || bytes.IndexByte(e.Name, 0) >= 0 {
		return bad(where.String(), "entry %q (inode %d) holds '/' or NUL", e.Name, ino)
	}
	if ht != nil {
		if err := ht.note(lblk, e.Name, where); err != nil {
			return err
		}
	}
	if state == 2 && c.inodeDir.test(uint64(ino)) {
		if p := c.parent[ino]; p != 0 {
			return bad(where.String(), "entry %q (inode %d) is a second name for a directory (also in directory %d)", e.Name, ino, p)
		}
		c.parent[ino] = d.ino
	}
	c.counted[ino]++
	return nil
}

// dirWhere names a directory block, formatted only for an error.
type dirWhere struct {
	ino  uint32
	pblk uint64
	lblk uint32
}

func (w dirWhere) String() string {
	return fmt.Sprintf("directory inode %d block %d (logical %d)", w.ino, w.pblk, w.lblk)
}
