package dirsource

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadableOpensUnlessAccessSaysYes: the walk opens a dense file only
// when the access check does not say yes, and then reports open's error;
// a yes is taken without opening.
func TestReadableOpensUnlessAccessSaysYes(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "file"), []byte("x"), 0o644)
	full := filepath.Join(root, "file")
	opened := 0
	failOpen := func(path string) (*os.File, error) {
		if path == full {
			opened++
			return nil, unix.EACCES
		}
		return openNoFollow(path)
	}
	r := &reader{root: root, open: failOpen, access: func(string) error { return nil }}
	if _, err := r.read(); err != nil || opened != 0 {
		t.Errorf("access yes: error %v, opened %d times", err, opened)
	}
	r = &reader{root: root, open: failOpen, access: func(string) error { return unix.ENOSYS }}
	_, err := r.read()
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "/file: open:") || opened != 1 {
		t.Errorf("access no: error %v, opened %d times", err, opened)
	}
}

// TestAccessRead: the kernel's check says yes to a readable file and no
// to a missing one (both through faccessat2 or, on a kernel without it,
// ENOSYS and open).
func TestAccessRead(t *testing.T) {
	root := t.TempDir()
	full := filepath.Join(root, "file")
	write(t, full, []byte("x"), 0o644)
	if err := accessRead(full); err != nil && !noFaccessat2.Load() {
		t.Errorf("readable file: %v", err)
	}
	if err := accessRead(filepath.Join(root, "missing")); err == nil {
		t.Errorf("missing file: no error")
	}
}
