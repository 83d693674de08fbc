package host

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Dev is a block device number.
type Dev struct{ Major, Minor int64 }

func (d Dev) String() string { return fmt.Sprintf("%d:%d", d.Major, d.Minor) }

// MountDev returns the device that holds the filesystem mounted at path
// (its st_dev), so the module can tell whether the system runs from the
// snapshot or from its origin.
func MountDev(path string) (Dev, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Dev{}, fmt.Errorf("stat %s: %w", path, err)
	}
	dev := uint64(st.Dev) //nolint:unconvert // Dev is uint32 on some arches
	return Dev{Major: int64(unix.Major(dev)), Minor: int64(unix.Minor(dev))}, nil
}
