package generator

import "fmt"

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
