package file

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/xattr"
)

// xattrRefcountOff is h_refcount's offset in an xattr block header.
const xattrRefcountOff = 0x4

// rawBytes is the inode encoded as it stands in memory.
func (i *Inode) rawBytes() ([]byte, error) {
	b := make([]byte, i.fs.InodeSize())
	if err := i.raw.Marshal(b); err != nil {
		return nil, wrapf(i.ino, "encode", err)
	}
	return b, nil
}

// blockOptions is how xattr blocks of this filesystem are verified.
func (i *Inode) blockOptions() xattr.BlockOptions {
	return xattr.BlockOptions{Checksum: i.fs.HasMetadataCsum(), FSSeed: i.fs.CsumSeed()}
}

// readXattrBlock reads and decodes the inode's external xattr block.
func (i *Inode) readXattrBlock() ([]xattr.Attr, xattr.BlockHeader, error) {
	blk := i.raw.FileACL()
	g := i.fs.Geometry()
	if blk < g.FirstDataBlock || blk >= g.BlocksCount || i.fs.IsMetadata(blk) {
		return nil, xattr.BlockHeader{}, corruptf(i.ino, "xattr block %d out of range", blk)
	}
	b, err := i.fs.ReadBlock(blk)
	if err != nil {
		return nil, xattr.BlockHeader{}, wrapf(i.ino, fmt.Sprintf("read xattr block %d", blk), err)
	}
	x, h, err := xattr.DecodeBlock(b, blk, i.blockOptions())
	if err != nil {
		return nil, h, corruptf(i.ino, "xattr block %d: %v", blk, err)
	}
	return x, h, nil
}

// Xattrs returns the inode's extended attributes, VFS names and encodings
// (POSIX ACLs converted), sorted by name.
func (i *Inode) Xattrs() ([]tree.Xattr, error) {
	a, err := i.xattrs()
	return treeXattrs(a), err
}

// xattrs is Xattrs as the codec gives them.
func (i *Inode) xattrs() ([]xattr.Attr, error) {
	raw, err := i.rawBytes()
	if err != nil {
		return nil, err
	}
	in, err := xattr.DecodeInode(raw, i.ino)
	if err != nil {
		return nil, corruptf(i.ino, "in-inode xattrs: %v", err)
	}
	var blk []xattr.Attr
	if i.raw.FileACL() != 0 {
		if blk, _, err = i.readXattrBlock(); err != nil {
			return nil, err
		}
	}
	all, err := xattr.Merge(in, blk, i.ino)
	if err != nil {
		return nil, corruptf(i.ino, "xattrs: %v", err)
	}
	return all, nil
}

// SetXattrs makes attrs (VFS names and encodings, in the order mke2fs -d
// would add them: name order) the inode's extended attributes, encoded as
// e2fsprogs does: the inode body while they fit, then one external block.
// The block is rewritten in place when the inode owns it alone, allocated
// when needed and freed when no longer needed; a block shared with other
// inodes (h_refcount > 1) is never modified beyond dropping this inode's
// reference. A set equal to the current one changes nothing.
func (i *Inode) SetXattrs(x []tree.Xattr) (changed bool, err error) {
	attrs := codecAttrs(x)
	cur, err := i.xattrs()
	if err != nil {
		return false, err
	}
	if xattr.Equal(cur, attrs) {
		return false, nil
	}
	raw, err := i.rawBytes()
	if err != nil {
		return false, err
	}
	off, ok, err := xattr.InodeXattrOffset(raw)
	if err != nil {
		return false, corruptf(i.ino, "xattr region: %v", err)
	}
	space := 0
	if ok {
		space = len(raw) - off
	}
	inBody, block, err := xattr.Encode(attrs, space, int(i.fs.BlockSize()), fmt.Sprintf("inode %d", i.ino))
	if err != nil {
		return false, wrapf(i.ino, "encode xattrs", err)
	}
	if err := i.storeXattrBlock(block); err != nil {
		return false, err
	}
	if inBody != nil {
		i.raw.Tail = inBody
	}
	i.updateBlocks()
	i.dirty = true
	return true, nil
}

// storeXattrBlock makes block (nil: none) the inode's external xattr block.
func (i *Inode) storeXattrBlock(block []byte) error {
	old := i.raw.FileACL()
	if old != 0 {
		_, h, err := i.readXattrBlock()
		if err != nil {
			return err
		}
		if h.Refcount <= 1 && block != nil {
			return i.writeXattrBlock(old, block)
		}
		if err := i.releaseXattrBlock(old, h.Refcount); err != nil {
			return err
		}
		i.raw.SetFileACL(0)
	}
	if block == nil {
		return nil
	}
	ext, err := i.fs.AllocBlocks(fs.BlockRequest{N: 1, Ino: i.ino, Metadata: true})
	if err != nil {
		return wrapf(i.ino, "allocate xattr block", err)
	}
	i.raw.SetFileACL(ext[0].Start)
	return i.writeXattrBlock(ext[0].Start, block)
}

// writeXattrBlock checksums block for blk and writes it there.
func (i *Inode) writeXattrBlock(blk uint64, block []byte) error {
	if i.fs.HasMetadataCsum() {
		xattr.SetBlockChecksum(block, blk, i.fs.CsumSeed())
	}
	if err := i.fs.WriteBlock(blk, block); err != nil {
		return wrapf(i.ino, fmt.Sprintf("write xattr block %d", blk), err)
	}
	return nil
}

// releaseXattrBlock drops this inode's reference to xattr block blk, whose
// refcount is refs: the last reference frees it, others decrement it.
func (i *Inode) releaseXattrBlock(blk uint64, refs uint32) error {
	if refs <= 1 {
		if err := i.fs.FreeBlocks(blk, 1); err != nil {
			return wrapf(i.ino, fmt.Sprintf("free xattr block %d", blk), err)
		}
		return nil
	}
	b, err := i.fs.ReadBlock(blk)
	if err != nil {
		return wrapf(i.ino, fmt.Sprintf("read xattr block %d", blk), err)
	}
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[xattrRefcountOff:], refs-1)
	return i.writeXattrBlock(blk, b)
}

// codecAttrs and treeXattrs carry attributes between the tree model and the
// xattr codec, which knows nothing of the tree (nil stays nil).
func codecAttrs(x []tree.Xattr) []xattr.Attr {
	if x == nil {
		return nil
	}
	out := make([]xattr.Attr, len(x))
	for i := range x {
		out[i] = xattr.Attr(x[i])
	}
	return out
}

func treeXattrs(a []xattr.Attr) []tree.Xattr {
	if a == nil {
		return nil
	}
	out := make([]tree.Xattr, len(a))
	for i := range a {
		out[i] = tree.Xattr(a[i])
	}
	return out
}
