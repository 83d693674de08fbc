package file

import (
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// sectorSize is the unit of i_blocks.
const sectorSize = 512

// blockStore lets the extent package read and write node blocks and take
// blocks for new nodes from the filesystem, on behalf of one inode.
type blockStore struct {
	f   *fs.FS
	ino uint32
}

func (s blockStore) BlockSize() int                       { return int(s.f.BlockSize()) }
func (s blockStore) ReadBlock(blk uint64) ([]byte, error) { return s.f.ReadBlock(blk) }
func (s blockStore) WriteBlock(blk uint64, b []byte) error {
	return s.f.WriteBlock(blk, b)
}

// AllocBlock implements extent.Allocator: one metadata block near goal.
func (s blockStore) AllocBlock(goal uint64) (uint64, error) {
	ext, err := s.f.AllocBlocks(fs.BlockRequest{N: 1, Goal: goal, Ino: s.ino, Metadata: true})
	if err != nil {
		return 0, err
	}
	if len(ext) != 1 || ext[0].Len != 1 {
		return 0, fmt.Errorf("ext4: inode %d: allocator returned %v for one block: %w", s.ino, ext, fs.ErrInvalid)
	}
	return ext[0].Start, nil
}

// FreeBlock implements extent.Allocator.
func (s blockStore) FreeBlock(blk uint64) error { return s.f.FreeBlocks(blk, 1) }

func (i *Inode) store() blockStore { return blockStore{f: i.fs, ino: i.ino} }

// extentOptions describes the inode to the extent package; trees that
// map filesystem metadata are refused.
func (i *Inode) extentOptions() extent.Options {
	return i.fs.ExtentOptions(i.ino, i.raw.Generation, true)
}

// classify makes extent-package corruption match fs.ErrCorrupt too.
func classify(err error) error {
	if errors.Is(err, extent.ErrCorrupt) || errors.Is(err, extent.ErrChecksum) {
		if !errors.Is(err, fs.ErrCorrupt) {
			return fmt.Errorf("%w (%w)", err, fs.ErrCorrupt)
		}
	}
	return err
}

func fmtInvalid(format string, a ...any) error {
	return fmt.Errorf("ext4: %s: %w", fmt.Sprintf(format, a...), fs.ErrInvalid)
}

// fileBlocks is the number of filesystem blocks the inode owns: mapped data,
// extent-tree nodes and the xattr block.
func (i *Inode) fileBlocks() uint64 {
	var n uint64
	if i.ext != nil {
		n += extent.MappedBlocks(i.ext.Mappings) + uint64(len(i.ext.Nodes))
	}
	if i.raw.FileACL() != 0 {
		n++
	}
	return n
}

// updateBlocks recomputes i_blocks from what the inode owns.
func (i *Inode) updateBlocks() {
	n := i.fileBlocks() * uint64(i.fs.BlockSize()/sectorSize)
	if i.raw.Sectors(i.fs.BlockSize()) != n || i.raw.Flags.Has(disk.FlagHugeFile) {
		i.raw.SetSectors(n)
		i.dirty = true
	}
}

// rebuild stores maps as the inode's extent tree (reusing the old tree's
// nodes) and updates i_block and i_blocks.
func (i *Inode) rebuild(maps []extent.Mapping) (*extent.Changes, error) {
	old := i.ext
	if old != nil && old.Depth == 0 && len(old.Nodes) == 0 {
		old = nil
	}
	t, ch, err := extent.Build(maps, old, i.store(), i.store(), i.extentOptions())
	if err != nil {
		return nil, wrapf(i.ino, "build extent tree", classify(err))
	}
	i.ext = t
	if i.raw.Block != t.Root || !i.raw.Flags.Has(disk.FlagExtents) {
		i.raw.Block = t.Root
		i.raw.Flags |= disk.FlagExtents
		i.dirty = true
	}
	i.updateBlocks()
	return ch, nil
}
