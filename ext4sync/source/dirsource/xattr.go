package dirsource

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// maxXattrSize is the largest name list or value the kernel hands out
// (XATTR_SIZE_MAX); it bounds the retry loops below.
const maxXattrSize = 64 * 1024

// xattrs lists every extended attribute the kernel shows for the path
// (without following a symlink), values verbatim, sorted by name. A
// filesystem without xattr support yields none.
func xattrs(full string) ([]tree.Xattr, error) {
	list, err := getSized(func(buf []byte) (int, error) { return unix.Llistxattr(full, buf) })
	if errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listxattr: %w", err)
	}
	var out []tree.Xattr
	for _, name := range bytes.Split(list, []byte{0}) {
		if len(name) == 0 {
			continue
		}
		key := string(name)
		value, err := getSized(func(buf []byte) (int, error) { return unix.Lgetxattr(full, key, buf) })
		if errors.Is(err, unix.ENODATA) {
			continue // removed between list and get
		}
		if err != nil {
			return nil, fmt.Errorf("getxattr %s: %w", key, err)
		}
		out = append(out, tree.Xattr{Name: key, Value: value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// getSized calls a size-probing syscall wrapper (listxattr, getxattr):
// first with no buffer for the size, then with a buffer of that size,
// retrying when the data grew in between. The loop is bounded by the
// kernel's limit on the size.
func getSized(call func(buf []byte) (int, error)) ([]byte, error) {
	for size := 0; size <= maxXattrSize; {
		n, err := call(nil)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return []byte{}, nil
		}
		if n < size {
			n = size // grow monotonically so the loop ends
		}
		buf := make([]byte, n)
		m, err := call(buf)
		if errors.Is(err, unix.ERANGE) {
			size = 2 * n
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:m], nil
	}
	return nil, fmt.Errorf("attribute data over %d bytes", maxXattrSize)
}
