package file

import (
	"bytes"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// WriteContent makes a regular file's content exactly the size bytes read
// from r, in place: Place with fs.InPlace, then Fill. It holds the whole
// content in memory, so it is for small files and tests; the sync digests
// content first and calls Place and Fill itself.
func (i *Inode) WriteContent(r io.Reader, size int64) (ContentStats, error) {
	if i.kind != tree.Regular {
		return ContentStats{}, kindf(i.ino, "write content", i.kind)
	}
	if size < 0 || (size+int64(i.fs.BlockSize())-1)/int64(i.fs.BlockSize()) > maxLogical {
		return ContentStats{}, fmtInvalid("inode %d: content size %d cannot be stored", i.ino, size)
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, size); err != nil {
		return ContentStats{}, wrapf(i.ino, "read new content", err)
	}
	d, err := tree.DigestReader(bytes.NewReader(buf.Bytes()), size)
	if err != nil {
		return ContentStats{}, wrapf(i.ino, "digest new content", err)
	}
	blocks := d.Blocks(int(i.fs.BlockSize()))
	st, err := i.Place(blocks, size, PlaceOptions{How: fs.InPlace})
	if err != nil {
		return st, err
	}
	fst, err := i.Fill(&tree.Node{Size: size}, bytes.NewReader(buf.Bytes()), blocks)
	return st.add(fst), err
}
