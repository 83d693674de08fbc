package releasegen

import (
	"time"

	"golang.org/x/sys/unix"
)

// lutimes sets a symlink's own times (never its target's).
func lutimes(p string, t time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	return unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
}
