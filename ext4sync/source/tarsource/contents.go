package tarsource

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// fileRef is a regular file with content: the node Each hands out (the
// first path of its hard-link group) and the header that holds its bytes.
type fileRef struct {
	node  *tree.Node
	entry int
	name  string
}

// contents re-reads the archive to stream file content.
type contents struct {
	archive string
	size    int64
	mtime   time.Time
	files   []fileRef               // sorted by entry: archive order
	digests map[string]tree.Digests // by path, taken when Open read the archive
}

// Digests returns the content digests of the regular file at n.Path,
// taken while Open read the archive (tree.Digester), so the sync does not
// decompress it once more for them. Each checks that the archive did not
// change since.
func (c *contents) Digests(n *tree.Node) (tree.Digests, error) {
	d, ok := c.digests[n.Path]
	if !ok {
		return tree.Digests{}, fmt.Errorf("tarsource: %s: %s holds no content", c.archive, display(n.Path))
	}
	return d, nil
}

// Each reads the archive from the start and calls fn for every regular
// file with content, in archive order, with a reader of exactly Size bytes
// (sparse holes as zeros). It stops reading after the last such file.
// Whatever fn leaves unread is read and discarded.
func (c *contents) Each(fn func(n *tree.Node, r io.Reader) error) error {
	if len(c.files) == 0 {
		return nil
	}
	st, err := os.Stat(c.archive)
	if err != nil {
		return fmt.Errorf("tarsource: %w", err)
	}
	if st.Size() != c.size || !st.ModTime().Equal(c.mtime) {
		return fmt.Errorf("tarsource: %s: %w (size or mtime differ)", c.archive, ErrChanged)
	}
	s, err := openStream(c.archive)
	if err != nil {
		return err
	}
	defer s.Close()
	tr := tar.NewReader(s.r)
	next := 0
	// Every header read moves index on; the loop ends at the last wanted
	// entry, so it is bounded by the entry count Open saw.
	for index := 0; next < len(c.files); index++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("tarsource: %s: %w: ends before entry %d", c.archive, ErrChanged, c.files[next].entry)
		}
		if err != nil {
			return fmt.Errorf("tarsource: %s: after %d entries: %w", c.archive, index, readError(err))
		}
		f := c.files[next]
		if index != f.entry {
			continue
		}
		next++
		if hdr.Name != f.name || hdr.Size != f.node.Size {
			return fmt.Errorf("tarsource: %s: entry %d %q: %w (was %q, %d bytes)", c.archive, index, hdr.Name, ErrChanged, f.name, f.node.Size)
		}
		if err := c.one(f, tr, fn); err != nil {
			return err
		}
	}
	return nil
}

func (c *contents) one(f fileRef, tr *tar.Reader, fn func(n *tree.Node, r io.Reader) error) error {
	cr := &countingReader{r: tr}
	if err := fn(f.node, cr); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return fmt.Errorf("tarsource: %s: entry %d %q: %w", c.archive, f.entry, f.name, readError(err))
	}
	if cr.n != f.node.Size {
		return fmt.Errorf("tarsource: %s: entry %d %q: %w: %d bytes, expected %d", c.archive, f.entry, f.name, ErrCorrupt, cr.n, f.node.Size)
	}
	return nil
}

// countingReader counts the bytes read through it, and hides the tar
// reader from fn.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	m, err := c.r.Read(p)
	c.n += int64(m)
	return m, err
}
