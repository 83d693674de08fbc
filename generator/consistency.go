package generator

import (
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check"
)

// checkBase refuses a base that is not consistent, before anything is
// built on it: an edit in place trusts the base's bitmaps, counts and
// trees, and a release built on a damaged base would carry the damage to
// every device with valid checksums. Bad input: exit 2.
func checkBase(flag, path string) error {
	err := check.File(path)
	if err == nil {
		return nil
	}
	if isCheckFinding(err) {
		return &InputError{Input: flag, Err: err}
	}
	return fmt.Errorf("check base: %w", err)
}

// checkBuilt refuses to publish an image that is not consistent. The base
// passed checkBase, so a failure here is a bug in lvm-um-gen, not bad
// input: exit 1, and nothing is written.
func checkBuilt(img Image) error {
	err := check.Image(img, img.Size())
	if err == nil {
		return nil
	}
	if isCheckFinding(err) {
		return builtError{fmt.Errorf("bug in lvm-um-gen: the image it built fails the consistency check, so nothing was written (please report this): %w", err)}
	}
	return builtError{fmt.Errorf("check built image: %w", err)}
}

// builtError is checkBuilt's verdict, which the measurement around it
// passes on as it is.
type builtError struct{ err error }

func (e builtError) Error() string { return e.err.Error() }
func (e builtError) Unwrap() error { return e.err }

// isBuiltError reports whether err is checkBuilt's.
func isBuiltError(err error) bool {
	var b builtError
	return errors.As(err, &b)
}

// isCheckFinding tells what the checker found from failures to read.
func isCheckFinding(err error) bool {
	return errors.Is(err, check.ErrInconsistent) || errors.Is(err, check.ErrUnsupported) || errors.Is(err, check.ErrNotClean)
}
