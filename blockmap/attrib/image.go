package attrib

import (
	"errors"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// ImageKinds opens the ext4 filesystem on r for reading only and returns
// InodeKinds of it: what Classify needs to tell a path's data, directory,
// extent-tree and xattr blocks apart in an image the sync wrote.
func ImageKinds(r io.ReaderAt) (KindOf, error) {
	f, err := fs.Open(readOnly{r}, fs.Options{})
	if err != nil {
		return nil, fmt.Errorf("attrib: %w", err)
	}
	return InodeKinds(f), nil
}

// readOnly is a device that refuses writes, so reading an image can never
// change it.
type readOnly struct{ r io.ReaderAt }

var errReadOnly = errors.New("attrib: image opened read-only")

func (d readOnly) ReadAt(p []byte, off int64) (int, error) { return d.r.ReadAt(p, off) }
func (d readOnly) WriteAt([]byte, int64) (int, error)      { return 0, errReadOnly }
