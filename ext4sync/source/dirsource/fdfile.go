package dirsource

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// srcFile is a regular file of the tree open for reading: an *os.File
// (the reader's open hook) or an fdFile.
type srcFile interface {
	io.ReadSeeker
	Fd() uintptr
	Close() error
}

// fdFile is a bare descriptor read like an *os.File, errors included
// (*os.PathError with the same operation and path), without what an
// os.File costs on top of open: an fcntl to learn whether it blocks, its
// allocation and its cleanup. The content passes open every file once.
type fdFile struct {
	fd   int
	name string
}

// openFileNoFollow opens like openNoFollow, as an fdFile.
func openFileNoFollow(path string) (srcFile, error) {
	fd, err := openFd(path)
	if err != nil {
		return nil, err
	}
	return &fdFile{fd: fd, name: path}, nil
}

func (f *fdFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Read(f.fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *fdFile) Seek(offset int64, whence int) (int64, error) {
	off, err := unix.Seek(f.fd, offset, whence)
	if err != nil {
		return 0, &os.PathError{Op: "seek", Path: f.name, Err: err}
	}
	return off, nil
}

func (f *fdFile) Fd() uintptr { return uintptr(f.fd) }

func (f *fdFile) Close() error {
	if err := unix.Close(f.fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// openContent opens a file of the tree for its content: with openFile when
// set (Read sets it), else with the open hook.
func (r *reader) openContent(path string) (srcFile, error) {
	if r.openFile != nil {
		return r.openFile(path)
	}
	f, err := r.open(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}
