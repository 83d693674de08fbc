package releasegen

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Write creates the release under dir (which must not exist or be empty):
// every path with its mode and mtime. Ownership is the caller's.
func (r *Release) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range r.Files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		var err error
		switch f.Kind {
		case Dir:
			err = os.Mkdir(p, 0o755)
		case Regular:
			err = os.WriteFile(p, f.Content(), 0o600)
		case Symlink:
			err = os.Symlink(f.Target, p)
		}
		if err != nil {
			return fmt.Errorf("releasegen: %s: %w", f.Path, err)
		}
	}
	// Modes and times last, deepest first, so writing children does not
	// move a directory's mtime after it was set.
	for i := len(r.Files) - 1; i >= 0; i-- {
		f := r.Files[i]
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		t := time.Unix(f.Mtime, 0)
		if f.Kind == Symlink {
			if err := lutimes(p, t); err != nil {
				return fmt.Errorf("releasegen: %s: %w", f.Path, err)
			}
			continue
		}
		if err := os.Chmod(p, os.FileMode(f.Mode&0o777)|modeBits(f.Mode)); err != nil {
			return fmt.Errorf("releasegen: %s: %w", f.Path, err)
		}
		if err := os.Chtimes(p, t, t); err != nil {
			return fmt.Errorf("releasegen: %s: %w", f.Path, err)
		}
	}
	t := time.Unix(baseMtime, 0)
	return os.Chtimes(dir, t, t)
}

func modeBits(m uint32) os.FileMode {
	var fm os.FileMode
	if m&0o4000 != 0 {
		fm |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}
