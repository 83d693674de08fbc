package file

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// dirFile is a directory inode's data as dir.File sees it.
type dirFile struct{ i *Inode }

// Blocks is the directory's size in blocks.
func (d dirFile) Blocks() uint32 {
	return uint32(d.i.raw.Size() / uint64(d.i.fs.BlockSize()))
}

// ReadBlock reads logical block lblk; a directory has no holes.
func (d dirFile) ReadBlock(lblk uint32) ([]byte, error) {
	phys, uninit, ok := d.i.lookup(lblk)
	if !ok || uninit {
		return nil, corruptf(d.i.ino, "directory block %d is a hole", lblk)
	}
	return d.i.fs.ReadBlock(phys)
}

// WriteBlock writes logical block lblk where it lies.
func (d dirFile) WriteBlock(lblk uint32, b []byte) error {
	phys, uninit, ok := d.i.lookup(lblk)
	if !ok || uninit {
		return corruptf(d.i.ino, "directory block %d is a hole", lblk)
	}
	return d.i.fs.WriteBlock(phys, b)
}

// AppendBlock grows the directory by one zeroed block, placed right after
// its last block when that is free.
func (d dirFile) AppendBlock() (uint32, error) {
	i := d.i
	bs := uint64(i.fs.BlockSize())
	lblk := d.Blocks()
	if uint64(lblk) >= maxLogical {
		return 0, fmtInvalid("inode %d: directory too large", i.ino)
	}
	if i.ext == nil {
		i.setEmptyExtents()
	}
	req := fs.BlockRequest{N: 1, Ino: i.ino}
	if n := len(i.ext.Mappings); n > 0 {
		last := i.ext.Mappings[n-1]
		req.Goal = last.Physical + uint64(last.Len)
	}
	ext, err := i.fs.AllocBlocks(req)
	if err != nil {
		return 0, wrapf(i.ino, "allocate directory block", err)
	}
	phys := ext[0].Start
	if err := i.fs.WriteBlock(phys, make([]byte, bs)); err != nil {
		return 0, wrapf(i.ino, fmt.Sprintf("write directory block %d", phys), err)
	}
	maps := append(append([]extent.Mapping(nil), i.ext.Mappings...), extent.Mapping{Logical: lblk, Physical: phys, Len: 1})
	if _, err := i.rebuild(maps); err != nil {
		_ = i.fs.FreeBlocks(phys, 1)
		return 0, err
	}
	i.raw.SetSize(uint64(lblk+1) * bs)
	i.dirty = true
	return lblk, nil
}

// dirParams describes the filesystem and this directory to package dir.
func (i *Inode) dirParams() dir.Params {
	return dir.Params{
		BlockSize:   int(i.fs.BlockSize()),
		Csum:        i.fs.HasMetadataCsum(),
		Seed:        i.fs.InodeSeed(i.ino, i.raw.Generation),
		FileType:    i.fs.HasIncompat(disk.IncompatFiletype),
		HashVersion: i.fs.DefaultHashVersion(),
		HashSeed:    i.fs.HashSeed(),
		Unsigned:    i.fs.UnsignedHash(),
		Indexed:     i.raw.Flags.Has(disk.FlagIndex),
		LargeDir:    i.fs.HasIncompat(disk.IncompatLargeDir),
		Inodes:      i.fs.InodesCount(),
		DirIndex:    i.fs.HasCompat(disk.CompatDirIndex),
	}
}

// InitDir gives a new directory its first block with "." and ".." (parent),
// EXTENTS_FL and size one block.
func (i *Inode) InitDir(parent uint32) error {
	if i.kind != tree.Dir {
		return kindf(i.ino, "init directory", i.kind)
	}
	if i.raw.Size() != 0 {
		return fmtInvalid("inode %d: init directory: already has %d bytes", i.ino, i.raw.Size())
	}
	f := dirFile{i}
	if _, err := f.AppendBlock(); err != nil {
		return err
	}
	if err := dir.Init(f, i.dirParams(), i.ino, parent); err != nil {
		return wrapf(i.ino, "init directory", err)
	}
	i.dir = nil
	return nil
}

// Dir opens the directory over the inode's blocks. Its AppendBlock allocates
// a block after the last one and updates the extent tree, size and i_blocks;
// Save sets or clears the INDEX flag to follow Indexed(). The same handle is
// returned until the directory is re-initialized.
func (i *Inode) Dir() (*dir.Dir, error) {
	if i.kind != tree.Dir {
		return nil, kindf(i.ino, "open directory", i.kind)
	}
	if i.dir != nil {
		return i.dir, nil
	}
	bs := uint64(i.fs.BlockSize())
	if i.raw.Size() == 0 || i.raw.Size()%bs != 0 {
		return nil, corruptf(i.ino, "directory size %d is not a positive multiple of the block size", i.raw.Size())
	}
	d, err := dir.Open(dirFile{i}, i.dirParams())
	if err != nil {
		return nil, wrapf(i.ino, "open directory", err)
	}
	i.dir = d
	return d, nil
}
