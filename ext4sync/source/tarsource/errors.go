package tarsource

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every error that means the archive
// itself is unacceptable: hostile, corrupt, truncated or too large. The CLI
// maps it to its "bad input" exit status. Each cause below is also a
// distinct value, so callers and tests can tell them apart.
var ErrInvalid = errors.New("invalid archive")

// invalidError is one cause of ErrInvalid.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func newInvalid(msg string) error { return &invalidError{msg: msg} }

// The causes of ErrInvalid.
var (
	// ErrAbsolute: an entry or hard-link target path starts with "/".
	ErrAbsolute = newInvalid("absolute path")
	// ErrDotDot: a path has a ".." component.
	ErrDotDot = newInvalid(`".." path component`)
	// ErrThroughSymlink: a path goes through a symlink the archive made.
	ErrThroughSymlink = newInvalid("path through a symlink")
	// ErrNameTooLong: a path component is longer than ext4 stores.
	ErrNameTooLong = newInvalid("file name too long")
	// ErrBadLink: a hard link names a missing or later entry, or a
	// directory.
	ErrBadLink = newInvalid("bad hard link")
	// ErrUnknownType: an entry type a rootfs cannot hold.
	ErrUnknownType = newInvalid("unknown entry type")
	// ErrMissingParent: a path whose parent the archive never creates as
	// a directory.
	ErrMissingParent = newInvalid("missing parent directory")
	// ErrBadEntry: a header field out of range (ids, device numbers,
	// symlink target, xattr, root entry type).
	ErrBadEntry = newInvalid("bad entry")
	// ErrCorrupt: the stream is truncated or corrupt (tar or compression).
	ErrCorrupt = newInvalid("truncated or corrupt archive")
	// ErrTooLarge: the total content exceeds Options.MaxBytes.
	ErrTooLarge = newInvalid("content exceeds the size limit")
	// ErrTooMany: more entries or metadata bytes than Options allow.
	ErrTooMany = newInvalid("too many entries or too much metadata")
	// ErrNotTar: the file is not a tar archive in any known compression.
	ErrNotTar = newInvalid("not a tar archive")
	// ErrDictTooLarge: an xz block asks for a dictionary larger than the
	// decompressor may allocate.
	ErrDictTooLarge = newInvalid("compression dictionary too large")
)

// readError classifies a failure reading the decompressed tar stream: a
// cause of ErrInvalid the decompressor's guard found stays itself, any
// other failure is ErrCorrupt.
func readError(err error) error {
	if errors.Is(err, ErrInvalid) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

// ErrChanged reports an archive that differs, when Contents re-reads it,
// from what Open saw.
var ErrChanged = errors.New("archive changed since it was opened")
