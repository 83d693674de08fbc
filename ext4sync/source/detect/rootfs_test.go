package detect

import "github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"

// Rootfs reads the rootfs at path, for the tests. For an ext4 image the
// file stays open for the life of the test process.
func Rootfs(path string, opts Options) (*tree.Tree, Kind, error) {
	s, err := Open(path, opts)
	if err != nil {
		return nil, Unknown, err
	}
	return s.Tree, s.Kind, nil
}
