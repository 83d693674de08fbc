// Package host is the update module's one seam to the device: every
// external program the module runs (lvm, dmsetup, the boot-environment
// tool) goes through a Runner, and the few facts it reads from the running
// system (which device holds /) come from here too. The rest of the module
// is plain Go over files and streams, so tests swap this package's
// programs for fakes on PATH and check every call.
package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Runner runs one external program to completion and returns what it
// printed on standard output.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// maxOutput bounds what a command may print before the module stops
// keeping it: lvs and dmsetup print a few lines.
const maxOutput = 1 << 20

// Exec is the Runner of the real device: programs are looked up on PATH
// and run without a shell, with LC_ALL=C so that numbers print the same
// everywhere. Trace, when set, receives one line per command run.
type Exec struct {
	Trace io.Writer
}

// Run runs name with args. A failure is a *CmdError naming the command,
// its exit status and the last line it printed on standard error.
func (e Exec) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if e.Trace != nil {
		fmt.Fprintf(e.Trace, "lvm-um: run: %s\n", quoteArgv(name, args))
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cmd.Environ(), "LC_ALL=C")
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.b.Bytes(), &CmdError{Argv: append([]string{name}, args...), Err: err, Stderr: lastLine(stderr.b.String())}
	}
	return stdout.b.Bytes(), nil
}

// CmdError is a command that could not run or exited non-zero.
type CmdError struct {
	Argv   []string
	Err    error  // *exec.ExitError, or why it could not start
	Stderr string // the last non-empty line it printed on stderr
}

func (e *CmdError) Error() string {
	msg := fmt.Sprintf("%s: %v", quoteArgv(e.Argv[0], e.Argv[1:]), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *CmdError) Unwrap() error { return e.Err }

// ExitCode is the command's exit status, or -1 when it did not run.
func (e *CmdError) ExitCode() int {
	var ee *exec.ExitError
	if errors.As(e.Err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// quoteArgv renders a command line for logs, quoting words with blanks.
func quoteArgv(name string, args []string) string {
	words := make([]string, 0, 1+len(args))
	for _, w := range append([]string{name}, args...) {
		if w == "" || strings.ContainsAny(w, " \t\"'") {
			w = fmt.Sprintf("%q", w)
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// limitedBuffer keeps the first maxOutput bytes written to it and drops
// the rest, so a runaway command cannot exhaust memory.
type limitedBuffer struct{ b bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.b.Len(); room > 0 {
		b.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
