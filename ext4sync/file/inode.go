package file

import (
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/dir"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// fastSymlinkMax is the longest target kept in i_block (a fast symlink):
// targets shorter than i_block's 60 bytes.
const fastSymlinkMax = disk.InodeBlockLen - 1

// Inode is an inode being read or edited. Nothing reaches the device's inode
// table until Save; data, extent-tree, xattr and directory blocks are written
// as the operations run. An Inode is for one goroutine at a time, and nothing
// else may edit the same inode while it is in use.
type Inode struct {
	fs   *fs.FS
	ino  uint32
	raw  *disk.Inode
	kind tree.Kind
	opts Options
	// ext is the inode's extent tree (regular files, directories, slow
	// symlinks with EXTENTS_FL); nil for inodes without one.
	ext *extent.Tree
	// dir is the open directory handle, whose index state Save copies
	// into i_flags.
	dir *dir.Dir
	// dirty: some operation changed the inode, so Save stamps its times.
	dirty bool
}

// Load reads inode ino and validates what the engine relies on: a known file
// type, an in-use link count, an extent tree that follows e2fsck's rules and
// maps no filesystem metadata, and a sane symlink. Block-mapped and
// inline-data files are refused.
func Load(f *fs.FS, ino uint32) (*Inode, error) {
	raw, err := f.ReadInode(ino)
	if err != nil {
		return nil, err
	}
	kind, ok := kindOfMode(raw.Mode)
	if !ok {
		return nil, corruptf(ino, "unknown file type %#o in i_mode", raw.FileType())
	}
	if raw.LinksCount == 0 {
		return nil, corruptf(ino, "links count is 0 (inode not in use)")
	}
	if raw.Flags.Has(disk.FlagInlineData) {
		return nil, unsupportedf(ino, "inline data")
	}
	i := &Inode{fs: f, ino: ino, raw: raw, kind: kind}
	if maxSize := (uint64(maxLogical) + 1) * uint64(f.BlockSize()); raw.Size() > maxSize {
		return nil, corruptf(ino, "size %d beyond the largest file ext4 maps (%d)", raw.Size(), maxSize)
	}
	if err := i.loadMapping(); err != nil {
		return nil, err
	}
	if kind == tree.Symlink {
		if _, err := i.Target(); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// loadMapping reads the extent tree of inodes that have data blocks.
func (i *Inode) loadMapping() error {
	if !i.raw.Flags.Has(disk.FlagExtents) {
		switch {
		case i.kind == tree.Symlink && i.raw.Size() <= fastSymlinkMax:
			return nil // fast symlink: the target is in i_block
		case i.kind == tree.Regular || i.kind == tree.Dir || i.kind == tree.Symlink:
			if i.raw.Size() == 0 && isZero(i.raw.Block[:]) {
				return nil
			}
			return unsupportedf(i.ino, "block-mapped (no EXTENTS_FL) %s", i.kind)
		}
		return nil
	}
	if i.kind != tree.Regular && i.kind != tree.Dir && i.kind != tree.Symlink {
		return corruptf(i.ino, "EXTENTS_FL on a %s", i.kind)
	}
	t, err := extent.Read(i.raw.Block[:], i.store(), i.extentOptions())
	if err != nil {
		return wrapf(i.ino, "extent tree", classify(err))
	}
	i.ext = t
	return nil
}

// Create allocates an inode for a new file of kind in directory parent and
// returns it blank, not yet saved: i_extra_isize as the filesystem wants,
// generation 0, EXTENTS_FL with an empty tree for regular files and
// directories, mode type bits set, permission bits 0, one link (two for a
// directory). Set its metadata with SetMeta and write it with Save.
func Create(f *fs.FS, kind tree.Kind, parent uint32, o Options) (*Inode, error) {
	mode, ok := modeOfKind(kind)
	if !ok {
		return nil, fmtInvalid("create: unknown kind %d", kind)
	}
	ino, err := f.AllocInode(fs.InodeRequest{Parent: parent, Dir: kind == tree.Dir})
	if err != nil {
		return nil, err
	}
	raw := f.NewInode()
	raw.Mode = mode
	raw.LinksCount = 1
	if kind == tree.Dir {
		raw.LinksCount = 2
	}
	i := &Inode{fs: f, ino: ino, raw: raw, kind: kind, opts: o, dirty: true}
	if kind == tree.Regular || kind == tree.Dir {
		i.setEmptyExtents()
	}
	return i, nil
}

// SetOptions changes the policies later edits follow (Load uses the zero
// Options).
func (i *Inode) SetOptions(o Options) { i.opts = o }

// Ino is the inode number.
func (i *Inode) Ino() uint32 { return i.ino }

// Kind is the file type.
func (i *Inode) Kind() tree.Kind { return i.kind }

// Links is i_links_count.
func (i *Inode) Links() uint16 { return i.raw.LinksCount }

// SetLinks sets i_links_count.
func (i *Inode) SetLinks(n uint16) {
	if i.raw.LinksCount != n {
		i.raw.LinksCount = n
		i.dirty = true
	}
}

// Raw returns a copy of the inode as it stands in memory (what Save would
// write, before times are stamped).
func (i *Inode) Raw() *disk.Inode {
	c := *i.raw
	c.Tail = append([]byte(nil), i.raw.Tail...)
	return &c
}

// Save writes the inode if its bytes differ from what is on disk: first the
// times are stamped per Options if any operation changed the inode, and a
// directory's INDEX flag follows its open dir.Dir.
func (i *Inode) Save() error {
	if i.dir != nil {
		fl := i.raw.Flags &^ disk.FlagIndex
		if i.dir.Indexed() {
			fl |= disk.FlagIndex
		}
		if fl != i.raw.Flags {
			i.raw.Flags = fl
			i.dirty = true
		}
	}
	if i.dirty {
		i.stampTimes()
	}
	if err := i.fs.WriteInode(i.ino, i.raw); err != nil {
		return wrapf(i.ino, "save", err)
	}
	i.dirty = false
	return nil
}

// setEmptyExtents makes i_block an empty extent root and sets EXTENTS_FL.
func (i *Inode) setEmptyExtents() {
	var root [extent.RootSize]byte
	extent.Header{Magic: extent.Magic, Max: extent.RootMax}.Put(root[:])
	i.raw.Block = root
	i.raw.Flags |= disk.FlagExtents
	i.ext = &extent.Tree{Root: root}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
