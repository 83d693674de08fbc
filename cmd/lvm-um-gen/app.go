package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/spf13/cobra"
)

// Exit codes, as documented in the root command's help.
const (
	exitOK       = 0
	exitFailure  = 1 // anything else: I/O errors, interruption, engine failures
	exitUsage    = 2 // bad usage or bad input
	exitOverflow = 3 // the release would overflow the snapshot
)

const exitCodesHelp = `Exit codes:
  0  success (estimate: the release fits, or no snapshot size was given)
  1  any other failure (I/O, interruption, engine error)
  2  bad usage or bad input: the message names the input and the problem
  3  the release would overflow the snapshot (predicted COW + reserve > snapshot)`

// app is the CLI with its environment, so tests run it in-process.
type app struct {
	stdout, stderr io.Writer
	newBuilder     func() generator.Builder
	stderrTTY      bool // draw progress bars on stderr
	getenv         func(string) string
}

// exitError carries the exit code chosen for an error, and optional
// detail printed after its one-line message (the refusal's lower bound,
// reasons and contributors).
type exitError struct {
	code   int
	err    error
	detail string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

// classify picks the exit code for an error from the generator.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	var ie *generator.InputError
	var re *generator.RefusalError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.As(err, &re):
		var detail strings.Builder
		if werr := generator.WriteRefusalDetail(&detail, re.Report); werr != nil {
			return &exitError{code: exitFailure, err: werr}
		}
		return &exitError{code: exitOverflow, err: err, detail: detail.String()}
	case errors.As(err, &ie):
		return &exitError{code: exitUsage, err: err}
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitFailure, err: errors.New("interrupted; nothing was written")}
	}
	return &exitError{code: exitFailure, err: err}
}

// run executes the command line and returns the exit code. Errors are
// printed as one line, "lvm-um-gen: ...". Errors cobra itself reports
// (unknown flags, commands or wrong arguments) are usage errors.
func (a *app) run(ctx context.Context, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.stderr, "lvm-um-gen: internal error: %v\n", r)
			code = exitFailure
		}
	}()
	root := a.rootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code = exitUsage
	detail := ""
	var ee *exitError
	if errors.As(err, &ee) {
		code, detail = ee.code, ee.detail
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(a.stderr, "lvm-um-gen: %s\n%s", msg, detail)
	return code
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "lvm-um-gen",
		Short: "Generate Mender lvm-um rootfs updates that fit in an LVM snapshot",
		Long: `lvm-um-gen applies a new rootfs to a copy of the previously shipped ext4
image in place, so unchanged blocks keep their positions, predicts the
copy-on-write space the device's LVM snapshot needs to take the update,
and writes a Mender lvm-um artifact - or refuses, if it would not fit.

` + exitCodesHelp,
		Example: `  lvm-um-gen generate --base v1.ext4 --rootfs rootfs-v2/ --snapshot-size 32MiB \
      -n release-2 -t raspberrypi4 -o release-2.mender
  lvm-um-gen estimate --base v1.ext4 --rootfs rootfs-v2/ --snapshot-size 32MiB
  lvm-um-gen diff v1.ext4 v2.ext4`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s: %w (see --help)", c.CommandPath(), err)}
	})
	root.AddCommand(a.generateCmd(), a.estimateCmd(), a.diffCmd(), a.versionCmd())
	return root
}
