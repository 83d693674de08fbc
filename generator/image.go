package generator

import (
	"io"
	"os"
)

// Image is a built image: the base with the build's changes. Reads must
// be safe from several goroutines at once (nothing writes it any more).
type Image interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// FileImage opens the image file at path as an Image. Fakes and tests
// build into files; the engine hands over its overlay instead.
func FileImage(path string) (Image, error) {
	return openSized(path)
}

// sizedFile is an image file read as an Image.
type sizedFile struct {
	*os.File
	size int64
}

// openSized opens the file at path for reading, with its size.
func openSized(path string) (*sizedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sizedFile{File: f, size: fi.Size()}, nil
}

func (f *sizedFile) Size() int64 { return f.size }
