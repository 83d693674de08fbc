package fs

import (
	"errors"
	"fmt"
	"strings"
)

// Error classes. Every error Open and the operations return that falls in
// one of these classes matches it with errors.Is, so callers (the CLI) can
// map them to exit codes.
var (
	// ErrUnsupported: the filesystem uses something this engine does not
	// handle (a feature, a block size, a descriptor size).
	ErrUnsupported = errors.New("ext4: unsupported filesystem")
	// ErrCorrupt: a structure is inconsistent or a checksum does not match.
	ErrCorrupt = errors.New("ext4: corrupt filesystem")
	// ErrNotClean: the filesystem needs e2fsck or journal recovery first
	// (needs_recovery, error state, orphans pending).
	ErrNotClean = errors.New("ext4: filesystem not clean")
	// ErrNoSpace: not enough free blocks.
	ErrNoSpace = errors.New("ext4: no space left")
	// ErrNoInodes: no free inode.
	ErrNoInodes = errors.New("ext4: no free inodes")
	// ErrInvalid: a caller's argument is out of range or conflicts with the
	// filesystem's state (double free, freeing metadata).
	ErrInvalid = errors.New("ext4: invalid request")
)

// classError is an error message that belongs to one class.
type classError struct {
	class error
	msg   string
}

func (e *classError) Error() string        { return "ext4: " + e.msg }
func (e *classError) Is(target error) bool { return target == e.class }

func corruptf(format string, args ...any) error {
	return &classError{class: ErrCorrupt, msg: fmt.Sprintf(format, args...)}
}

func unsupportedf(format string, args ...any) error {
	return &classError{class: ErrUnsupported, msg: fmt.Sprintf(format, args...)}
}

func notCleanf(format string, args ...any) error {
	return &classError{class: ErrNotClean, msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error {
	return &classError{class: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// FeatureError lists the features that make Open refuse a filesystem. It
// matches ErrUnsupported.
type FeatureError struct {
	Features []string // mke2fs names, e.g. "bigalloc", "FEATURE_R20"
}

func (e *FeatureError) Error() string {
	return "ext4: unsupported feature(s): " + strings.Join(e.Features, ", ")
}

// Is makes FeatureError match ErrUnsupported.
func (e *FeatureError) Is(target error) bool { return target == ErrUnsupported }

// SpaceError says what an allocation needed and what was free. It matches
// ErrNoSpace (blocks) or ErrNoInodes (inodes).
type SpaceError struct {
	Inodes bool   // true: inodes, false: blocks
	Need   uint64 // how many the request needed
	Free   uint64 // how many the filesystem had free
}

func (e *SpaceError) Error() string {
	what := "blocks"
	if e.Inodes {
		what = "inodes"
	}
	return fmt.Sprintf("ext4: out of %s: need %d, %d free", what, e.Need, e.Free)
}

// Is makes SpaceError match ErrNoSpace or ErrNoInodes.
func (e *SpaceError) Is(target error) bool {
	if e.Inodes {
		return target == ErrNoInodes
	}
	return target == ErrNoSpace
}

// wrapf puts a location in front of err without repeating the "ext4: "
// prefix: class errors stay in their class, others are wrapped with %w.
func wrapf(err error, format string, args ...any) error {
	where := fmt.Sprintf(format, args...)
	var ce *classError
	if errors.As(err, &ce) && err == error(ce) {
		return &classError{class: ce.class, msg: where + ": " + ce.msg}
	}
	return fmt.Errorf("ext4: %s: %w", where, err)
}

// detail is an error's message without the "ext4: " prefix, for errors
// from package disk quoted inside a located message.
func detail(err error) string { return strings.TrimPrefix(err.Error(), "ext4: ") }
