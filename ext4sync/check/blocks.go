package check

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// Block-map (non-extent) inode layout: i_block holds 12 direct pointers,
// then one indirect, one double and one triple indirect pointer.
const (
	nDirect    = 12
	indIndex   = 12
	dindIndex  = 13
	tindIndex  = 14
	nPointers  = 15
	sectorSize = 512
)

// xattrBlock counts the inodes sharing one xattr block.
type xattrBlock struct {
	refcount, refs uint32
	first          uint32
}

// dirInfo is what pass 2 needs of a directory found in pass 1.
type dirInfo struct {
	ino     uint32
	maps    []extent.Mapping
	nblocks uint32 // logical blocks mapped (no holes)
	indexed bool
	seed    uint32
}

// checkBlocks is e2fsck's check_blocks: the xattr block, the extent tree
// or block map with every block claimed, then i_size and i_blocks against
// what was found.
func (c *checker) checkBlocks(ino uint32, in *disk.Inode) error {
	var count uint64 // blocks charged to i_blocks
	if ok, err := c.checkXattrBlock(ino, in); err != nil {
		return err
	} else if ok {
		count++
	}
	var maps []extent.Mapping
	if hasValidBlocks(in) {
		var meta uint64
		var err error
		if c.sb.FeatureIncompat.Has(disk.IncompatExtents) && in.Flags.Has(disk.FlagExtents) {
			maps, meta, err = c.walkExtents(ino, in)
		} else {
			maps, meta, err = c.walkBlockMap(ino, in)
		}
		if err != nil {
			return err
		}
		count += meta
		for _, m := range maps {
			count += uint64(m.Len)
		}
	}
	if c.owner != nil {
		return nil
	}
	if in.Flags.Has(disk.FlagIndex) {
		if !in.IsDir() {
			return bad(c.inodeWhere(ino), "htree (index) flag on a non-directory")
		}
		if !c.sb.FeatureCompat.Has(disk.CompatDirIndex) {
			return bad(c.inodeWhere(ino), "htree (index) flag without the dir_index feature")
		}
	}
	if err := c.checkSize(ino, in, maps); err != nil {
		return err
	}
	// e2fsck counts every regular inode it walks, the resize inode
	// included, of 2 GiB or more, and rejects them without large_file.
	if in.FileType() == disk.ModeRegular && in.Size() >= 1<<31 && !c.sb.FeatureRoCompat.Has(disk.RoCompatLargeFile) {
		return bad(c.inodeWhere(ino), "i_size %d (2 GiB or more) without the large_file feature", in.Size())
	}
	want := count
	if !c.sb.FeatureRoCompat.Has(disk.RoCompatHugeFile) || !in.Flags.Has(disk.FlagHugeFile) {
		want *= uint64(c.lay.BlockSize / sectorSize)
	} else if in.BlocksHigh != 0 {
		return bad(c.inodeWhere(ino), "huge_file inode with i_blocks_hi %d", in.BlocksHigh)
	}
	got := uint64(in.BlocksLo)
	if c.sb.FeatureRoCompat.Has(disk.RoCompatHugeFile) {
		got = in.RawBlocks()
	}
	if got != want {
		return bad(c.inodeWhere(ino), "i_blocks %d, but it uses %d blocks (%d)", got, count, want)
	}
	switch ino {
	case c.sb.JournalInum:
		c.journalMaps, c.journalSize = maps, in.Size()
	case c.sb.OrphanFileInum:
		c.orphanMaps, c.orphanSize, c.orphanGen = maps, in.Size(), in.Generation
	}
	if in.IsDir() && ino >= disk.RootIno {
		c.dirs = append(c.dirs, dirInfo{ino: ino, maps: maps, nblocks: mappedEnd(maps), indexed: in.Flags.Has(disk.FlagIndex),
			seed: disk.InodeSeed(c.seed, ino, in.Generation)})
	}
	return nil
}

func mappedEnd(maps []extent.Mapping) uint32 {
	if len(maps) == 0 {
		return 0
	}
	return uint32(maps[len(maps)-1].End())
}

// checkSize applies e2fsck's i_size rules to what the inode maps.
func (c *checker) checkSize(ino uint32, in *disk.Inode, maps []extent.Mapping) error {
	bs := uint64(c.lay.BlockSize)
	size := in.Size()
	if in.IsDir() {
		if len(maps) == 0 {
			return bad(c.inodeWhere(ino), "directory without blocks")
		}
		next := uint64(0)
		for _, m := range maps {
			if uint64(m.Logical) != next {
				return bad(c.inodeWhere(ino), "directory has a hole at logical block %d", next)
			}
			if m.Uninit {
				return bad(c.inodeWhere(ino), "directory block %d is in an uninitialized extent", m.Logical)
			}
			next = m.End()
		}
		if limit := uint64(1) << (21 - c.sb.LogBlockSize); next > limit {
			return bad(c.inodeWhere(ino), "directory of %d blocks, more than %d without large_dir", next, limit)
		}
		nblock := size / bs
		switch {
		case size%bs != 0:
			return bad(c.inodeWhere(ino), "directory i_size %d is not a multiple of the block size", size)
		case nblock > next:
			return bad(c.inodeWhere(ino), "directory i_size %d beyond its %d blocks", size, next)
		case next-nblock > uint64(c.sb.PreallocDirBlocks):
			return bad(c.inodeWhere(ino), "directory i_size %d short of its %d blocks", size, next)
		}
		return nil
	}
	if in.FileType() == disk.ModeSymlink {
		return nil // checkSymlink
	}
	lastInit := int64(-1)
	for _, m := range maps {
		if !m.Uninit {
			lastInit = int64(m.End()) - 1
		}
	}
	extents := in.Flags.Has(disk.FlagExtents)
	if !extents && len(maps) > 0 {
		lastInit = int64(maps[len(maps)-1].End()) - 1
	}
	switch {
	case lastInit >= 0 && size < uint64(lastInit)*bs:
		return bad(c.inodeWhere(ino), "i_size %d, but logical block %d is mapped", size, lastInit)
	case extents && size > bs<<32-1:
		return bad(c.inodeWhere(ino), "i_size %d too large for an extent-mapped file", size)
	case !extents && size > maxBlockMapSize(bs):
		return bad(c.inodeWhere(ino), "i_size %d too large for a block-mapped file", size)
	}
	return nil
}

// maxBlockMapSize is the largest i_size e2fsck allows a block-mapped file.
func maxBlockMapSize(bs uint64) uint64 {
	apb := bs / 4
	return (nDirect + apb + apb*apb + apb*apb*apb) * bs
}

// hasValidBlocks is ext2fs_inode_has_valid_blocks2: whether i_block maps
// blocks (not a device number, a fast symlink's target or inline data).
func hasValidBlocks(in *disk.Inode) bool {
	switch in.FileType() {
	case disk.ModeDir, disk.ModeRegular:
	case disk.ModeSymlink:
		if in.FileACL() == 0 {
			return in.BlocksLo != 0 && !isFastSymlink(in)
		}
		if in.SizeLo >= disk.InodeBlockLen {
			return true
		}
		return in.SizeLo > 4 && binary.LittleEndian.Uint32(in.Block[4:]) == 0
	default:
		return false
	}
	return !in.Flags.Has(disk.FlagInlineData)
}

// isFastSymlink is ext2fs_is_fast_symlink: the target fits i_block.
func isFastSymlink(in *disk.Inode) bool {
	return in.FileType() == disk.ModeSymlink && in.Size() != 0 && in.Size() < disk.InodeBlockLen
}

// walkExtents reads the inode's extent tree with package extent (which
// checks the tree's own rules) and claims its nodes and data blocks.
func (c *checker) walkExtents(ino uint32, in *disk.Inode) ([]extent.Mapping, uint64, error) {
	opt := extent.Options{Ino: ino, Csum: c.sb.HasMetadataCsum(), Seed: disk.InodeSeed(c.seed, ino, in.Generation),
		FirstDataBlock: c.lay.FirstDataBlock, BlocksCount: c.lay.BlocksCount}
	t, err := extent.Read(in.Block[:], blockReader{c}, opt)
	if err != nil {
		return nil, 0, c.formatError(fmt.Sprintf("inode %d extent tree", ino), err)
	}
	for _, n := range t.Nodes {
		if err := c.claim(n, 1, func(uint64) string { return fmt.Sprintf("inode %d extent tree block", ino) }); err != nil {
			return nil, 0, err
		}
	}
	for _, m := range t.Mappings {
		if err := c.claim(m.Physical, uint64(m.Len), func(b uint64) string {
			return fmt.Sprintf("inode %d data (logical block %d)", ino, uint64(m.Logical)+b-m.Physical)
		}); err != nil {
			return nil, 0, err
		}
	}
	return t.Mappings, uint64(len(t.Nodes)), nil
}

// formatError turns an error from a format package into the checker's:
// an *Error (the image ends early) and I/O errors from the checker's own
// reads pass through; anything else is a rule the structure breaks.
func (c *checker) formatError(where string, err error) error {
	var e *Error
	var io *ioError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &io):
		return io
	case errors.Is(err, xattr.ErrEAInode):
		return unsupported(where, "%v", err)
	}
	return bad(where, "%v", err)
}

// walkBlockMap walks a block-mapped inode's direct and indirect blocks.
// Every block is counted; every block is claimed except for the resize
// inode, whose indirect and data blocks are the reserved descriptor
// blocks markTables claimed (only its double indirect block is its own).
func (c *checker) walkBlockMap(ino uint32, in *disk.Inode) ([]extent.Mapping, uint64, error) {
	w := &mapWalk{c: c, ino: ino, resize: ino == disk.ResizeIno, apb: uint64(c.lay.BlockSize / 4)}
	for i := 0; i < nDirect; i++ {
		if err := w.data(uint64(i), le32(in.Block[:], i)); err != nil {
			return nil, 0, err
		}
	}
	base := uint64(nDirect)
	for level, idx := range []int{indIndex, dindIndex, tindIndex} {
		if b := le32(in.Block[:], idx); b != 0 {
			if err := w.indirect(level+1, uint64(b), base); err != nil {
				return nil, 0, err
			}
		}
		base += pow(w.apb, level+1)
	}
	return w.maps, w.meta, nil
}

func le32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[4*i:]) }

func pow(b uint64, e int) uint64 {
	r := uint64(1)
	for ; e > 0; e-- {
		r *= b
	}
	return r
}

type mapWalk struct {
	c      *checker
	ino    uint32
	resize bool
	apb    uint64
	maps   []extent.Mapping
	meta   uint64
}

func (w *mapWalk) inRange(blk uint64) bool {
	return blk >= w.c.lay.FirstDataBlock && blk < w.c.lay.BlocksCount
}

func (w *mapWalk) data(lblk uint64, pblk uint32) error {
	if pblk == 0 {
		return nil
	}
	if !w.inRange(uint64(pblk)) {
		return bad(w.c.inodeWhere(w.ino), "logical block %d maps block %d, outside the filesystem", lblk, pblk)
	}
	if !w.resize {
		if err := w.c.claim(uint64(pblk), 1, func(uint64) string {
			return fmt.Sprintf("inode %d data (logical block %d)", w.ino, lblk)
		}); err != nil {
			return err
		}
	}
	if n := len(w.maps); n > 0 && w.maps[n-1].End() == lblk && w.maps[n-1].Physical+uint64(w.maps[n-1].Len) == uint64(pblk) {
		w.maps[n-1].Len++
	} else {
		w.maps = append(w.maps, extent.Mapping{Logical: uint32(lblk), Physical: uint64(pblk), Len: 1})
	}
	return nil
}

// indirect walks an indirect block of the given level (1: pointers to
// data) whose first data block is logical base.
func (w *mapWalk) indirect(level int, blk, base uint64) error {
	if !w.inRange(blk) {
		return bad(w.c.inodeWhere(w.ino), "indirect block %d outside the filesystem", blk)
	}
	if !w.resize || level == 2 {
		if err := w.c.claim(blk, 1, func(uint64) string { return fmt.Sprintf("inode %d indirect block", w.ino) }); err != nil {
			return err
		}
	}
	w.meta++
	b, err := w.c.readBlocks(blk, 1, fmt.Sprintf("inode %d indirect block %d", w.ino, blk))
	if err != nil {
		return err
	}
	span := pow(w.apb, level-1)
	for j := uint64(0); j < w.apb; j++ {
		p := binary.LittleEndian.Uint32(b[4*j:])
		switch {
		case p == 0:
		case level == 1:
			if err := w.data(base+j, p); err != nil {
				return err
			}
		default:
			if err := w.indirect(level-1, uint64(p), base+j*span); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkXattrBlock is check_ext_attr: the inode's external xattr block is
// decoded and checked once, claimed once, and its users counted against
// h_refcount. It reports whether the inode has one (charged to i_blocks).
func (c *checker) checkXattrBlock(ino uint32, in *disk.Inode) (bool, error) {
	blk := in.FileACL()
	if blk == 0 {
		return false, nil
	}
	where := func() string { return fmt.Sprintf("inode %d xattr block %d", ino, blk) }
	if !c.sb.FeatureCompat.Has(disk.CompatExtAttr) {
		return false, bad(where(), "xattr block without the ext_attr feature")
	}
	if blk < c.lay.FirstDataBlock || blk >= c.lay.BlocksCount {
		return false, bad(where(), "outside the filesystem")
	}
	if x := c.xattrs[blk]; x != nil {
		x.refs++
		return true, nil
	}
	b, err := c.readBlocks(blk, 1, "xattr block")
	if err != nil {
		return false, err
	}
	attrs, hdr, err := xattr.DecodeBlock(b, blk, xattr.BlockOptions{Checksum: c.sb.HasMetadataCsum(), FSSeed: c.seed})
	if err != nil {
		return false, c.formatError(where(), err)
	}
	for _, a := range attrs {
		// A name with none of the known prefixes was stored with name
		// index 0, which e2fsck refuses in a block (not in an inode).
		if !knownXattrPrefix(a.Name) {
			return false, bad(where(), "xattr %q has name index 0", a.Name)
		}
	}
	if err := c.claim(blk, 1, func(uint64) string { return fmt.Sprintf("xattr block of inode %d", ino) }); err != nil {
		return false, err
	}
	c.xattrs[blk] = &xattrBlock{refcount: hdr.Refcount, refs: 1, first: ino}
	return true, nil
}

// knownXattrPrefix reports whether an xattr name starts with a namespace
// that has a name index of its own.
func knownXattrPrefix(name string) bool {
	for _, p := range []string{"user.", "trusted.", "security.", "system.", "gnu."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
