// Package overlay is a copy-on-write block device over a read-only base
// image: reads see the base overlaid with every write, writes are kept in
// blocks of Options.BlockSize (the most recently written Options.MemLimit
// bytes of them in memory, the others in a temporary file), and the base is
// never modified. The device knows
// exactly which blocks differ from the base, which is what the COW cost
// model needs, and streams the result as a new image.
//
// Writing bytes equal to what the device already holds is a no-op, and a
// block written back to exactly its base content is no longer changed: the
// device compares against the base on every write, so Changed reports the
// blocks whose bytes differ, not the blocks that were written.
//
// A Device is for one goroutine at a time.
package overlay

import (
	"errors"
	"fmt"
	"io"
	"os"
)

const (
	// DefaultBlockSize is the tracking granularity when Options.BlockSize
	// is not set.
	DefaultBlockSize = 4096
	// DefaultMemLimit is the memory changed blocks may use before they
	// spill to a temporary file, when Options.MemLimit is not set: enough
	// for the metadata a sync writes over and over (inode tables,
	// bitmaps, directories), while file data, written once, goes to the
	// page cache rather than the heap.
	DefaultMemLimit = 16 << 20
)

// ErrClosed is returned by every operation on a closed device.
var ErrClosed = errors.New("overlay: device is closed")

// Options tune a Device. The zero value is usable.
type Options struct {
	// BlockSize is the granularity of tracking, in bytes (e.g. the ext4
	// block size). Zero means DefaultBlockSize.
	BlockSize int
	// MemLimit is how many bytes of changed blocks are kept in memory,
	// the most recently written ones; the others go to a spill file. Zero means DefaultMemLimit; a
	// negative value keeps nothing in memory.
	MemLimit int64
	// TempDir is where the spill file is made; empty means os.TempDir().
	TempDir string
}

// Device is a base image overlaid with writes.
type Device struct {
	base     io.ReaderAt
	baseFile *os.File // set by Open; closed by Close
	size     int64
	bs       int64
	memLimit int64
	tempDir  string
	closed   bool

	store          // changed blocks
	baseBuf []byte // one block of the base, for comparisons
	curBuf  []byte // one block of the device
}

// New returns a device over base, which holds size bytes. base is only ever
// read.
func New(base io.ReaderAt, size int64, opts Options) *Device {
	bs := int64(opts.BlockSize)
	if bs <= 0 {
		bs = DefaultBlockSize
	}
	mem := opts.MemLimit
	switch {
	case mem == 0:
		mem = DefaultMemLimit
	case mem < 0:
		mem = 0
	}
	return &Device{
		base:     base,
		size:     max(size, 0),
		bs:       bs,
		memLimit: mem,
		tempDir:  opts.TempDir,
		store:    newStore(),
		baseBuf:  make([]byte, bs),
		curBuf:   make([]byte, bs),
	}
}

// Open opens the image at basePath read-only (O_RDONLY) as the base of a
// new device whose size is the file's size. Close closes the file.
func Open(basePath string, opts Options) (*Device, error) {
	f, err := os.Open(basePath)
	if err != nil {
		return nil, fmt.Errorf("overlay: open base image: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("overlay: stat base image %s: %w", basePath, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("overlay: base image %s: not a regular file", basePath)
	}
	d := New(f, fi.Size(), opts)
	d.baseFile = f
	return d, nil
}

// Size is the device size in bytes, the base's size.
func (d *Device) Size() int64 { return d.size }

// BlockSize is the granularity at which changes are tracked.
func (d *Device) BlockSize() int64 { return d.bs }

// blockLen is the length of block b; the last block may be short.
func (d *Device) blockLen(b int64) int64 { return min(d.bs, d.size-b*d.bs) }

// Close discards the overlay, removes the spill file and closes the base
// file if Open opened it. Closing twice is a no-op.
func (d *Device) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	err := d.store.close()
	if d.baseFile != nil {
		if cerr := d.baseFile.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("overlay: close base image: %w", cerr)
		}
	}
	return err
}

// Base returns the read-only base the device overlays, e.g. to compare the
// device with it.
func (d *Device) Base() io.ReaderAt { return d.base }
