package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// InputError is a problem with one of the user's inputs (a file, a flag
// value): the CLI exits 2 for it. Input names the flag or path.
type InputError struct {
	Input string
	Err   error
}

func (e *InputError) Error() string { return fmt.Sprintf("%s: %v", e.Input, e.Err) }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(input string, format string, a ...any) error {
	return &InputError{Input: input, Err: fmt.Errorf(format, a...)}
}

// RefusalError is returned when a release would overflow the snapshot:
// predicted COW + reserve > snapshot size. Nothing but the report (if one
// was asked for) has been written. The CLI exits 3 for it.
type RefusalError struct {
	Report *Report
}

func (e *RefusalError) Error() string {
	r := e.Report
	return fmt.Sprintf("release does not fit the snapshot: needs %s (predicted COW %s + reserve %s), snapshot has %s: over by %s",
		HumanSize(r.NeededBytes), HumanSize(r.PredictedCOWBytes), HumanSize(r.ReserveBytes),
		HumanSize(r.SnapshotBytes), HumanSize(-r.HeadroomBytes))
}

// NoSpaceError is a full filesystem met while writing Path: one sentence
// saying where, where the libraries' own errors around it may print whole
// structures (mender-artifact's tar header, for one).
type NoSpaceError struct {
	Path string // the file being written, "" when unknown
	Err  error
}

func (e *NoSpaceError) Error() string {
	msg := "no space left on device"
	if e.Path != "" {
		msg += " writing " + e.Path
	}
	if tmp := os.TempDir(); e.Path != "" && strings.HasPrefix(e.Path, filepath.Clean(tmp)+string(filepath.Separator)) {
		msg += " in the temporary directory (set TMPDIR to a filesystem with more room)"
	}
	return msg
}

func (e *NoSpaceError) Unwrap() error { return e.Err }

// explainNoSpace returns err as a *NoSpaceError when a full filesystem
// (ENOSPC, or EDQUOT) caused it, else err itself.
func explainNoSpace(err error) error {
	var ns *NoSpaceError
	if err == nil || errors.As(err, &ns) || !(errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return err
	}
	e := &NoSpaceError{Err: err}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		e.Path = pe.Path
	}
	return e
}
