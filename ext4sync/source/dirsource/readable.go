package dirsource

import (
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// readable proves the regular file at full can be opened for reading, so
// that an unreadable file fails the walk with its path. The kernel's
// access check (faccessat2 with AT_EACCESS: the effective ids and
// capabilities open uses, ACLs included) answers in one system call
// without opening; only when it does not say yes is the file opened, so
// every refusal is open's own, with open's error. What the check cannot
// see (a security module's hook on open itself, the process out of file
// descriptors) surfaces when the content is read, as an open error of
// the same path.
func (r *reader) readable(full string) error {
	if r.access != nil && r.access(full) == nil {
		return nil
	}
	f, err := r.open(full)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	return f.Close()
}

// noFaccessat2 is set once the kernel turned faccessat2 down (before
// Linux 5.8, or a seccomp filter): readable then only opens.
var noFaccessat2 atomic.Bool

// accessRead asks the kernel whether the effective ids may read the
// file at path, not following a symlink in its last element. It never
// emulates the check (x/sys's Faccessat does without faccessat2, from
// the mode bits alone): any answer but yes sends the caller to open.
func accessRead(path string) error {
	if noFaccessat2.Load() {
		return unix.ENOSYS
	}
	err := unix.Faccessat2(unix.AT_FDCWD, path, unix.R_OK, unix.AT_EACCESS|unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOSYS || err == unix.EPERM {
		noFaccessat2.Store(true)
	}
	return err
}
