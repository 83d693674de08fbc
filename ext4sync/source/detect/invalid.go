package detect

import (
	"errors"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/tarsource"
)

// IsInvalid reports whether an error from Open means the rootfs
// itself is unacceptable (the CLI's "bad input" exit status) rather than
// an I/O or system failure: an unknown kind, a hostile or corrupt tar, an
// ext4 image that is corrupt, unsupported or not clean.
func IsInvalid(err error) bool {
	for _, class := range []error{ErrUnknown, tarsource.ErrInvalid, fs.ErrCorrupt, fs.ErrUnsupported, fs.ErrNotClean} {
		if errors.Is(err, class) {
			return true
		}
	}
	return false
}
