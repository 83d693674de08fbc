package dirsource

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// contents streams the regular files of a directory tree.
type contents struct {
	r     *reader
	nodes []*tree.Node // Size > 0, one per hard-link group, sorted by path
}

// ErrChanged reports a file whose size or mtime differed after it was read
// from what Read saw, or that did not hold exactly Size bytes.
var ErrChanged = errors.New("changed while read")

// Each opens every regular file with content, in sorted path order, hands
// fn a reader of exactly Size bytes, then checks the file still matches
// what Read saw. Whatever fn leaves unread is read and discarded, so the
// check always covers the whole file.
func (c *contents) Each(fn func(n *tree.Node, r io.Reader) error) error {
	return c.EachOf(func(*tree.Node) bool { return true }, fn)
}

// EachOf is Each for the files want accepts (tree.Selector); the others
// are not opened.
func (c *contents) EachOf(want func(n *tree.Node) bool, fn func(n *tree.Node, r io.Reader) error) error {
	for _, n := range c.nodes {
		if !want(n) {
			continue
		}
		if err := c.one(n, fn); err != nil {
			return err
		}
	}
	return nil
}

func (c *contents) one(n *tree.Node, fn func(n *tree.Node, r io.Reader) error) error {
	full := c.r.full(n.Path)
	f, err := c.r.openContent(full)
	if err != nil {
		return fmt.Errorf("source: open %s: %w", display(n.Path), err)
	}
	defer f.Close()
	cr := &fileReader{f: f, left: n.Size}
	if err := fn(n, cr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fmt.Errorf("source: read %s: %w", display(n.Path), err)
	}
	if cr.n != n.Size {
		return fmt.Errorf("source: %s %w: read %d bytes, expected %d", display(n.Path), ErrChanged, cr.n, n.Size)
	}
	if c.r.afterRead != nil {
		c.r.afterRead(n, full)
	}
	// A file that grew or was rewritten since Read has another size or
	// mtime now: fstat tells, without a read past the end.
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("source: fstat %s: %w", display(n.Path), err)
	}
	mtime := tree.Time{Sec: st.Mtim.Sec, Nsec: uint32(st.Mtim.Nsec)}
	if st.Size != n.Size || mtime != n.Mtime {
		return fmt.Errorf("source: %s %w: size %d mtime %d.%09d, expected size %d mtime %d.%09d",
			display(n.Path), ErrChanged, st.Size, mtime.Sec, mtime.Nsec, n.Size, n.Mtime.Sec, n.Mtime.Nsec)
	}
	return nil
}

// fileReader reads a file's first left bytes and counts them. It can
// Skip (tree.Skipper) a hole the file's data segments show, seeking past
// it instead of reading its zeros, so a sparse file costs what its data
// costs, whatever its size.
type fileReader struct {
	f    srcFile
	left int64 // bytes still to give or skip
	n    int64 // bytes given or skipped
}

func (c *fileReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	m, err := c.f.Read(p)
	c.n += int64(m)
	c.left -= int64(m)
	return m, err
}

// Skip passes over n bytes (a hole) with a seek.
func (c *fileReader) Skip(n int64) error {
	if n < 0 || n > c.left {
		return fmt.Errorf("skip %d bytes with %d left: %w", n, c.left, io.ErrUnexpectedEOF)
	}
	if _, err := c.f.Seek(n, io.SeekCurrent); err != nil {
		return err
	}
	c.n += n
	c.left -= n
	return nil
}
