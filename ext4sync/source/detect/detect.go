// Package detect opens a rootfs given as a directory, a tar archive (any
// compression tarsource reads) or an ext4 image, telling them apart by
// content, never by name, and returns its tree.
package detect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/dirsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/imagesource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/tarsource"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// Kind is what a rootfs path turned out to be.
type Kind uint8

const (
	Unknown Kind = iota
	Dir
	Tar
	Image
)

func (k Kind) String() string {
	switch k {
	case Dir:
		return "directory"
	case Tar:
		return "tar archive"
	case Image:
		return "ext4 image"
	}
	return "unknown"
}

// ErrUnknown reports a path that is none of the three.
var ErrUnknown = errors.New("not a directory, tar archive or ext4 image")

// Options are passed to the source that reads the path.
type Options struct {
	Dir dirsource.Options
	Tar tarsource.Options
	// Progress, when set, overrides the sources' own: it is called as the
	// tree is read with how far it got and of how much, -1 when that is
	// not known (paths of a directory, bytes of a tar archive).
	Progress func(done, total int64)
}

// Source is an opened rootfs. Its Tree's Contents read from the path, so
// the path must stay unchanged until Close.
type Source struct {
	Tree  *tree.Tree
	Kind  Kind
	close func() error
}

// Close releases what reading the tree's contents needs (the image file).
func (s *Source) Close() error {
	if s.close == nil {
		return nil
	}
	c := s.close
	s.close = nil
	return c()
}

// Open reads the rootfs at path: a directory (not a symlink to one) with
// dirsource, a file holding an ext4 superblock read-only with imagesource,
// anything tarsource.Probe accepts as a tar.
func Open(path string, opts Options) (*Source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	if p := opts.Progress; p != nil {
		opts.Dir.Progress = func(paths int64) { p(paths, -1) }
		opts.Tar.Progress = p
	}
	if st.IsDir() {
		t, err := dirsource.Read(path, opts.Dir)
		if err != nil {
			return nil, err
		}
		return &Source{Tree: t, Kind: Dir}, nil
	}
	isImage, err := hasExt4Magic(path)
	if err != nil {
		return nil, err
	}
	if isImage {
		return openImage(path)
	}
	if ok, _, err := tarsource.Probe(path); err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	} else if ok {
		t, err := tarsource.Open(path, opts.Tar)
		if err != nil {
			return nil, err
		}
		return &Source{Tree: t, Kind: Tar}, nil
	}
	return nil, fmt.Errorf("rootfs: %s: %w", path, ErrUnknown)
}

// openImage reads an ext4 image read-only (imagesource).
func openImage(path string) (*Source, error) {
	t, closeImage, err := imagesource.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	return &Source{Tree: t, Kind: Image, close: closeImage}, nil
}

// ext4 superblock magic: 0xEF53 at byte 0x38 of the superblock, which
// starts 1024 bytes into the device.
const (
	sbOffset  = 1024
	magicOff  = 0x38
	ext4Magic = 0xef53
)

// hasExt4Magic reports whether the file at path holds an ext2/3/4
// superblock magic.
func hasExt4Magic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("rootfs: %w", err)
	}
	defer f.Close()
	var m [2]byte
	if _, err := f.ReadAt(m[:], sbOffset+magicOff); err != nil {
		if err == io.EOF {
			return false, nil
		}
		return false, fmt.Errorf("rootfs: %s: read: %w", path, err)
	}
	return binary.LittleEndian.Uint16(m[:]) == ext4Magic, nil
}
