package generator

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// outputMode is the permission of every file the generator publishes.
const outputMode = 0o644

// bufSize is the write buffer in front of output files.
const bufSize = 1 << 20

// tempOutput is a file being written in a directory: next to its final
// name (a file output, renamed there on publish) or in the work directory
// (a stream output's content, copied on publish). Until then, remove
// deletes it.
type tempOutput struct {
	f *os.File
	w *bufio.Writer
}

// createTempOutput creates the temporary file an output's content is
// written to: next to its target for a file, in workDir for a stream.
func createTempOutput(out *output, workDir string) (*tempOutput, error) {
	dir, name := workDir, "stream"
	if out.kind == outFile {
		dir, name = filepath.Dir(out.target), filepath.Base(out.target)
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &tempOutput{f: f, w: bufio.NewWriterSize(f, bufSize)}, nil
}

func (t *tempOutput) Write(p []byte) (int, error) { return t.w.Write(p) }

// ReadFrom flushes what is buffered and lets the file read r itself: from
// another file, by copy_file_range, without the bytes passing through
// this process.
func (t *tempOutput) ReadFrom(r io.Reader) (int64, error) {
	if err := t.w.Flush(); err != nil {
		return 0, err
	}
	return t.f.ReadFrom(r)
}

// name is the temporary file's path.
func (t *tempOutput) name() string { return t.f.Name() }

// finish flushes, syncs and closes the file, ready for publishing. It
// returns the file's size.
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

// remove deletes the temporary file; harmless after it was renamed.
func (t *tempOutput) remove() {
	t.f.Close()
	os.Remove(t.f.Name())
}

// staged is one output whose content is complete, waiting to be
// published: in the file tmp, or in data.
type staged struct {
	out  *output
	tmp  string
	data []byte
}

// stageBytes makes data ready to publish to out: a file output gets its
// temporary file now; a stream keeps data until it is written through.
func stageBytes(out *output, data []byte, workDir string) (staged, error) {
	if out.kind == outStream {
		return staged{out: out, data: data}, nil
	}
	return stageTemp(out, workDir, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// stageFile makes the finished file path ready to publish to out. A file
// output is renamed from path when both lie on one filesystem, else path
// is first copied next to the target; a stream copies path on publish.
func stageFile(out *output, path, workDir string) (staged, error) {
	if out.kind == outStream || sameFS(path, filepath.Dir(out.target)) {
		return staged{out: out, tmp: path}, nil
	}
	return stageTemp(out, workDir, func(w io.Writer) error { return copyInto(w, path) })
}

// stageTemp writes an output's content with fill to a new temporary
// file (createTempOutput) and stages it.
func stageTemp(out *output, workDir string, fill func(io.Writer) error) (staged, error) {
	t, err := createTempOutput(out, workDir)
	if err != nil {
		return staged{}, err
	}
	if err := fill(t); err != nil {
		t.remove()
		return staged{}, err
	}
	if _, err := t.finish(); err != nil {
		t.remove()
		return staged{}, err
	}
	return staged{out: out, tmp: t.name()}, nil
}

func copyInto(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// sameFS reports whether a and dir are on one filesystem (so a rename
// between them works).
func sameFS(a, dir string) bool {
	var sa, sd syscall.Stat_t
	return syscall.Stat(a, &sa) == nil && syscall.Stat(dir, &sd) == nil && sa.Dev == sd.Dev
}

// discard removes the temporary files of outputs not published.
func discard(s []staged) {
	for _, st := range s {
		if st.tmp != "" && st.out.kind == outFile {
			os.Remove(st.tmp)
		}
	}
}

// publish makes the staged outputs appear, in order (the caller puts the
// artifact last, so a crash between two steps never leaves an artifact
// without its report and image). Files are renamed over their targets;
// streams are written through. If a file cannot be renamed, the files
// already published are removed again, so a failure leaves all or
// nothing of the files (a stream once written stays written).
func publish(s []staged) error {
	var done []string
	for i, st := range s {
		if !publishStep(i, st.out) {
			return errKilled
		}
		var err error
		if st.out.kind == outFile {
			if err = os.Rename(st.tmp, st.out.target); err == nil {
				done = append(done, st.out.target)
			}
		} else {
			err = writeStream(st)
		}
		if err != nil {
			for _, p := range done {
				os.Remove(p)
			}
			return fmt.Errorf("publish %s %s: %w", st.out.flag, st.out.path, err)
		}
	}
	for _, p := range done {
		syncDir(filepath.Dir(p))
	}
	return nil
}

// publishStep is called before each step of publish; a test makes it
// return false to stop there, as a SIGKILL would (no rollback).
var publishStep = func(int, *output) bool { return true }

// errKilled is publish's error when publishStep stopped it.
var errKilled = errors.New("publish stopped")

// writeStream writes a staged output through to its stream.
func writeStream(st staged) error {
	w, err := st.out.openStream()
	if err != nil {
		return err
	}
	if st.tmp != "" {
		err = copyInto(w, st.tmp)
	} else {
		_, err = w.Write(st.data)
	}
	if cerr := w.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	return err
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
