package dirsource

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestFdFileReadsLikeOSFile: an fdFile gives the bytes, the EOF and the
// errors (*os.PathError, same text) an *os.File of the same open does.
func TestFdFileReadsLikeOSFile(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "f"), []byte("hello"), 0o644)
	for _, path := range []string{filepath.Join(root, "f"), root} {
		a, err := openFileNoFollow(path)
		must(t, err)
		b, err := openNoFollow(path)
		must(t, err)
		for _, step := range []func(f srcFile) (int64, error){
			func(f srcFile) (int64, error) { return f.Seek(1, io.SeekCurrent) },
			func(f srcFile) (int64, error) { n, err := f.Read(make([]byte, 2)); return int64(n), err },
			func(f srcFile) (int64, error) { n, err := f.Read(make([]byte, 9)); return int64(n), err },
			func(f srcFile) (int64, error) { n, err := f.Read(make([]byte, 9)); return int64(n), err },
			func(f srcFile) (int64, error) { n, err := f.Read(nil); return int64(n), err },
		} {
			na, ea := step(a)
			nb, eb := step(b)
			if na != nb || (ea == nil) != (eb == nil) || (ea != nil && ea.Error() != eb.Error()) {
				t.Errorf("%s: fdFile %d, %v; os.File %d, %v", path, na, ea, nb, eb)
			}
			if _, ok := eb.(*os.PathError); ok {
				if _, ok := ea.(*os.PathError); !ok {
					t.Errorf("%s: fdFile error %T, os.File's *os.PathError", path, ea)
				}
			}
		}
		must(t, a.Close())
		must(t, b.Close())
	}
}
