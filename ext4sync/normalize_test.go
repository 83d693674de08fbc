package ext4sync

import (
	"io/fs"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// normalizeForMkfs gives every path of dir the metadata `mkfs.ext4 -d`
// keeps: mtimes in whole seconds, and the root's mtime at mkfs time and
// the mode and owner mkfs gives it (0755 root:root; e2fsprogs 1.47 does
// not copy the source root's).
func normalizeForMkfs(t testing.TB, dir string, fakeTime int64) {
	t.Helper()
	if err := unix.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Lchown(dir, 0, 0); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		mtime := unix.Timespec{Sec: st.Mtim.Sec}
		if p == dir {
			mtime.Sec = fakeTime
		}
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{mtime, mtime}, unix.AT_SYMLINK_NOFOLLOW)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keepMtime runs fn and then puts path's mtime (with nanoseconds) back.
func keepMtime(t testing.TB, path string, fn func()) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	fn()
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		t.Fatal(err)
	}
}
