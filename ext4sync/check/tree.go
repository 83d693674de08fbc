package check

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// checkConnectivity is pass 3: the root is a directory, every directory
// is reached from the root through the entries naming it, and its ".."
// names the directory holding it. (A missing /lost+found is not an error
// for e2fsck -n, which only creates it when it may write.)
func (c *checker) checkConnectivity() error {
	if !c.inodeUsed.test(disk.RootIno) || !c.inodeDir.test(disk.RootIno) {
		return bad("root directory (inode 2)", "not allocated or not a directory")
	}
	reached := newBitset(uint64(c.lay.InodesCount) + 1)
	reached.set(disk.RootIno)
	for _, d := range c.dirs {
		if err := c.connect(d.ino, reached, len(c.dirs)); err != nil {
			return err
		}
		if want := c.parent[d.ino]; c.dotdot[d.ino] != want {
			return bad(fmt.Sprintf("directory inode %d", d.ino), "\"..\" names inode %d, but its parent is %d", c.dotdot[d.ino], want)
		}
	}
	return nil
}

// connect follows parents from directory ino up to a directory already
// reached from the root.
func (c *checker) connect(ino uint32, reached bitset, limit int) error {
	p := ino
	for steps := 0; !reached.test(uint64(p)); steps++ {
		next := c.parent[p]
		if next == 0 {
			return bad(fmt.Sprintf("directory inode %d", p), "no entry names it (not connected to the root)")
		}
		if steps > limit {
			return bad(fmt.Sprintf("directory inode %d", ino), "its parents form a loop")
		}
		p = next
	}
	for p := ino; !reached.set(uint64(p)); p = c.parent[p] {
	}
	return nil
}

// checkLinks is pass 4: i_links_count of every inode in use equals the
// directory entries naming it (a directory's own "." and its
// subdirectories' ".." included).
func (c *checker) checkLinks() error {
	indexed := newBitset(uint64(c.lay.InodesCount) + 1)
	for _, d := range c.dirs {
		if d.indexed {
			indexed.set(uint64(d.ino))
		}
	}
	for ino := uint32(1); ino <= c.lay.InodesCount; ino++ {
		if ino == disk.BadBlocksIno || ino > disk.RootIno && ino < c.lay.FirstIno || ino == c.sb.OrphanFileInum ||
			!c.inodeUsed.test(uint64(ino)) {
			continue
		}
		n := c.counted[ino]
		if n == 0 {
			return bad(c.inodeWhere(ino), "in use (%d links) but no directory entry names it", c.links[ino])
		}
		isDir := c.inodeDir.test(uint64(ino))
		if isDir && n > linkMax {
			if !c.sb.FeatureRoCompat.Has(disk.RoCompatDirNlink) {
				return bad(c.inodeWhere(ino), "directory with %d links without dir_nlink", n)
			}
			n = 1
		}
		links := uint32(c.links[ino])
		if n != links && !(isDir && n > 1 && links == 1 && indexed.test(uint64(ino))) {
			return bad(c.inodeWhere(ino), "i_links_count %d, but %d directory entries name it", links, n)
		}
	}
	return nil
}
