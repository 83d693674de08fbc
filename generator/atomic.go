package generator

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// outputMode is the permission of every file the generator publishes.
const outputMode = 0o644

// bufSize is the write buffer in front of output files.
const bufSize = 1 << 20

// tempOutput is a file being written next to its final name. It appears
// under the final name only through commit; until then, remove deletes it.
type tempOutput struct {
	f     *os.File
	w     *bufio.Writer
	final string
}

func createTempOutput(final string) (*tempOutput, error) {
	f, err := os.CreateTemp(filepath.Dir(final), "."+filepath.Base(final)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &tempOutput{f: f, w: bufio.NewWriterSize(f, bufSize), final: final}, nil
}

func (t *tempOutput) Write(p []byte) (int, error) { return t.w.Write(p) }

// finish flushes, syncs and closes the file, ready for rename. It returns
// the file's size.
func (t *tempOutput) finish() (int64, error) {
	err := t.w.Flush()
	if err == nil {
		err = t.f.Chmod(outputMode)
	}
	if err == nil {
		err = t.f.Sync()
	}
	var size int64
	if err == nil {
		var fi os.FileInfo
		if fi, err = t.f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	return size, err
}

// remove deletes the temporary file; harmless after a successful rename.
func (t *tempOutput) remove() {
	t.f.Close()
	os.Remove(t.f.Name())
}

// rename is one move of a finished temporary file to its final name.
type rename struct{ from, to string }

// commitAll publishes the files in order. If one rename fails, those
// already published are removed again so the run leaves all or nothing
// (a crash between the renames can still leave the earlier ones).
func commitAll(moves []rename) error {
	for i, m := range moves {
		if err := os.Rename(m.from, m.to); err != nil {
			for _, done := range moves[:i] {
				os.Remove(done.to)
			}
			return fmt.Errorf("publish %s: %w", m.to, err)
		}
	}
	if len(moves) > 0 {
		syncDir(filepath.Dir(moves[len(moves)-1].to))
	}
	return nil
}

// syncDir makes renames in dir durable; errors are ignored because some
// file systems do not support syncing a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// writeFileAtomic writes data to a temporary file next to path, ready to
// be renamed there; the caller commits or removes it.
func writeFileAtomic(path string, data []byte) (*tempOutput, error) {
	t, err := createTempOutput(path)
	if err != nil {
		return nil, err
	}
	if _, err := t.Write(data); err != nil {
		t.remove()
		return nil, err
	}
	if _, err := t.finish(); err != nil {
		t.remove()
		return nil, err
	}
	return t, nil
}

// checkDir reports whether the directory of path exists.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return errors.New(dir + " is not a directory")
	}
	return nil
}
