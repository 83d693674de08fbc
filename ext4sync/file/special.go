package file

import (
	"bytes"
	"encoding/binary"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Device number encodings in i_block, as the kernel's ext4 writes them:
// the old 8:8 encoding in i_block[0] when it can hold the numbers, else
// the new encoding (minor low 8 bits, 12-bit major, minor high 12 bits)
// in i_block[1].
const (
	oldDevMax     = 0xFF
	oldDevShift   = 8
	newDevMinorLo = 0xFF
	newDevMajor   = 0xFFF00
	newDevMinorHi = 0xFFF00000
	newDevHiShift = 12
	rdevWordSize  = 4
)

// Target returns a symlink's target.
func (i *Inode) Target() (string, error) {
	if i.kind != tree.Symlink {
		return "", kindf(i.ino, "read symlink target", i.kind)
	}
	size := i.raw.Size()
	if size == 0 {
		return "", corruptf(i.ino, "symlink with size 0")
	}
	if !i.raw.Flags.Has(disk.FlagExtents) {
		if size > fastSymlinkMax {
			return "", corruptf(i.ino, "fast symlink size %d exceeds i_block", size)
		}
		return string(i.raw.Block[:size]), nil
	}
	if size >= uint64(i.fs.BlockSize()) {
		return "", corruptf(i.ino, "symlink size %d not below the block size", size)
	}
	phys, uninit, ok := i.ext.Lookup(0)
	if !ok || uninit {
		return "", corruptf(i.ino, "slow symlink has no data block")
	}
	b, err := i.fs.ReadBlock(phys)
	if err != nil {
		return "", wrapf(i.ino, "read symlink block", err)
	}
	return string(b[:size]), nil
}

// SetTarget makes the inode (a symlink) point at target: in i_block when it
// is shorter than 60 bytes (a fast symlink, no EXTENTS_FL), else in one data
// block mapped by an extent (a slow symlink), which is overwritten in place
// when the symlink already has one, allocated otherwise, and freed when the
// symlink becomes fast.
func (i *Inode) SetTarget(target string) (changed bool, err error) {
	if i.kind != tree.Symlink {
		return false, kindf(i.ino, "set symlink target", i.kind)
	}
	bs := int(i.fs.BlockSize())
	if target == "" || len(target) >= bs || bytes.IndexByte([]byte(target), 0) >= 0 {
		return false, fmtInvalid("inode %d: symlink target of %d bytes cannot be stored", i.ino, len(target))
	}
	if old, err := i.Target(); err == nil && old == target && i.raw.Size() > 0 {
		return false, nil
	}
	if len(target) <= fastSymlinkMax {
		if err := i.dropData(); err != nil {
			return false, err
		}
		i.raw.Flags &^= disk.FlagExtents
		i.raw.Block = [disk.InodeBlockLen]byte{}
		copy(i.raw.Block[:], target)
		i.ext = nil
	} else {
		blk := make([]byte, bs)
		copy(blk, target)
		if err := i.writeSingleBlock(blk); err != nil {
			return false, err
		}
	}
	i.raw.SetSize(uint64(len(target)))
	i.updateBlocks()
	i.dirty = true
	return true, nil
}

// writeSingleBlock makes b the inode's only data block, at logical block 0:
// written over the block mapped there, else into a new block.
func (i *Inode) writeSingleBlock(b []byte) error {
	var phys uint64
	if i.ext != nil && i.raw.Flags.Has(disk.FlagExtents) {
		if p, uninit, ok := i.ext.Lookup(0); ok && !uninit && extent.MappedBlocks(i.ext.Mappings) == 1 {
			phys = p
		}
	}
	if phys == 0 {
		if err := i.dropData(); err != nil {
			return err
		}
		ext, err := i.fs.AllocBlocks(fs.BlockRequest{N: 1, Ino: i.ino})
		if err != nil {
			return wrapf(i.ino, "allocate symlink block", err)
		}
		phys = ext[0].Start
		i.setEmptyExtents()
	}
	if err := i.fs.WriteBlock(phys, b); err != nil {
		return wrapf(i.ino, "write symlink block", err)
	}
	_, err := i.rebuild([]extent.Mapping{{Logical: 0, Physical: phys, Len: 1}})
	return err
}

// dropData frees every data block and extent-tree node of the inode and
// leaves it with an empty extent root (or none, when it had no tree).
func (i *Inode) dropData() error {
	if i.ext == nil || !i.raw.Flags.Has(disk.FlagExtents) {
		return nil
	}
	for _, m := range i.ext.Mappings {
		if err := i.fs.FreeBlocks(m.Physical, uint64(m.Len)); err != nil {
			return wrapf(i.ino, "free data blocks", err)
		}
	}
	for _, n := range i.ext.Nodes {
		if err := i.fs.FreeBlocks(n, 1); err != nil {
			return wrapf(i.ino, "free extent node", err)
		}
	}
	i.setEmptyExtents()
	i.updateBlocks()
	i.dirty = true
	return nil
}

// Rdev returns a device inode's major and minor numbers.
func (i *Inode) Rdev() (major, minor uint32) {
	w0 := binary.LittleEndian.Uint32(i.raw.Block[0:])
	if w0 != 0 {
		return (w0 >> oldDevShift) & oldDevMax, w0 & oldDevMax
	}
	w1 := binary.LittleEndian.Uint32(i.raw.Block[rdevWordSize:])
	return (w1 & newDevMajor) >> oldDevShift, w1&newDevMinorLo | (w1>>newDevHiShift)&newDevMajor
}

// SetRdev stores a device inode's numbers in the kernel's encoding.
func (i *Inode) SetRdev(major, minor uint32) (changed bool) {
	var b [disk.InodeBlockLen]byte
	if major <= oldDevMax && minor <= oldDevMax {
		binary.LittleEndian.PutUint32(b[0:], major<<oldDevShift|minor)
	} else {
		v := minor&newDevMinorLo | major<<oldDevShift&newDevMajor | minor<<newDevHiShift&newDevMinorHi
		binary.LittleEndian.PutUint32(b[rdevWordSize:], v)
	}
	if b == i.raw.Block {
		return false
	}
	i.raw.Block = b
	i.dirty = true
	return true
}
