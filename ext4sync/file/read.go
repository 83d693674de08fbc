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

// NewReader reads a regular file's whole content (Size bytes). It can
// Skip a hole (tree.Skipper) without reading its zeros.
func (i *Inode) NewReader() io.Reader { return skipReader{io.NewSectionReader(i, 0, i.Size())} }

// skipReader is a section of a file that passes over holes by seeking.
type skipReader struct{ *io.SectionReader }

// Skip passes over n bytes.
func (r skipReader) Skip(n int64) error {
	pos, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if n < 0 || pos+n > r.Size() {
		return io.ErrUnexpectedEOF
	}
	_, err = r.Seek(n, io.SeekCurrent)
	return err
}

// DataSegments are the byte ranges of a regular file that its initialized
// extents map, merged and cut at Size, as tree.Node.Data has them: nil
// when they cover the whole file, empty when it is all hole.
func (i *Inode) DataSegments() []tree.Segment {
	size := i.Size()
	if i.kind != tree.Regular || size == 0 {
		return nil
	}
	bs := int64(i.fs.BlockSize())
	segs := []tree.Segment{}
	if i.ext != nil {
		for _, m := range i.ext.Mappings {
			off := int64(m.Logical) * bs
			if m.Uninit || off >= size {
				continue
			}
			end := min(off+int64(m.Len)*bs, size)
			if k := len(segs); k > 0 && segs[k-1].Off+segs[k-1].Len == off {
				segs[k-1].Len = end - segs[k-1].Off
				continue
			}
			segs = append(segs, tree.Segment{Off: off, Len: end - off})
		}
	}
	if len(segs) == 1 && segs[0].Off == 0 && segs[0].Len == size {
		return nil
	}
	return segs
}

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
