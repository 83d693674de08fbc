package main

import (
	"errors"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// readOnly lets fs.Open read an image file that must never be written.
type readOnly struct{ f *os.File }

var errReadOnly = errors.New("releasebench: image opened read-only")

func (r readOnly) ReadAt(p []byte, off int64) (int, error) { return r.f.ReadAt(p, off) }
func (r readOnly) WriteAt([]byte, int64) (int, error)      { return 0, errReadOnly }

// fsReader adapts an *fs.FS to extent.Reader.
type fsReader struct{ f *fs.FS }

func (r fsReader) BlockSize() int                       { return int(r.f.BlockSize()) }
func (r fsReader) ReadBlock(blk uint64) ([]byte, error) { return r.f.ReadBlock(blk) }

func toInt64(v []uint64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
