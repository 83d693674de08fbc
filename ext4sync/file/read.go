package file

import (
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Size is i_size: a regular file's length, a directory's or symlink's bytes.
func (i *Inode) Size() int64 { return int64(i.raw.Size()) }

// ReadAt reads a regular file's content at off; holes and uninitialized
// extents read as zeros. It returns io.EOF when it reaches Size.
func (i *Inode) ReadAt(p []byte, off int64) (int, error) {
	if i.kind != tree.Regular && i.kind != tree.Dir {
		return 0, kindf(i.ino, "read content", i.kind)
	}
	if off < 0 {
		return 0, fmtInvalid("inode %d: read at negative offset %d", i.ino, off)
	}
	size := i.Size()
	if off >= size {
		return 0, io.EOF
	}
	bs := int64(i.fs.BlockSize())
	n := 0
	for n < len(p) && off < size {
		lblk := off / bs
		inBlk := off % bs
		want := min(int64(len(p)-n), bs-inBlk, size-off)
		dst := p[n : n+int(want)]
		if lblk > maxLogical {
			return n, corruptf(i.ino, "size %d beyond the largest logical block", size)
		}
		phys, uninit, ok := i.lookup(uint32(lblk))
		if !ok || uninit {
			clear(dst)
		} else {
			b, err := i.fs.ReadBlock(phys)
			if err != nil {
				return n, wrapf(i.ino, "read data", err)
			}
			copy(dst, b[inBlk:])
		}
		n += int(want)
		off += want
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// maxLogical is the largest logical block an extent can map.
const maxLogical = 1<<32 - 1

// lookup looks up lblk in the inode's tree (a hole when it has none).
func (i *Inode) lookup(lblk uint32) (uint64, bool, bool) {
	if i.ext == nil {
		return 0, false, false
	}
	return i.ext.Lookup(lblk)
}

// NewReader reads a regular file's whole content (Size bytes).
func (i *Inode) NewReader() io.Reader { return io.NewSectionReader(i, 0, i.Size()) }

// DataExtents lists the physical runs holding a regular file's initialized
// data, in logical order (nil for a file without an extent tree).
func (i *Inode) DataExtents() []fs.Extent {
	if i.ext == nil {
		return nil
	}
	var out []fs.Extent
	for _, m := range i.ext.Mappings {
		if !m.Uninit {
			out = append(out, fs.Extent{Start: m.Physical, Len: uint64(m.Len)})
		}
	}
	return out
}
