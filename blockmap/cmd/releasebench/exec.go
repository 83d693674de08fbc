package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// fakeTime is E2FSPROGS_FAKE_TIME for every e2fsprogs run, so images built
// by different runs carry the same superblock times.
const fakeTime = "1700000000"

// timingRuns is how many times a timed command runs; the median counts.
const timingRuns = 3

// usage is what one child process cost: wall time and peak resident set
// (getrusage ru_maxrss, which Linux reports in KiB).
type usage struct {
	Wall    time.Duration
	PeakKiB int64
}

// run runs name with args, returning what it cost. Exit codes listed in
// okCodes besides 0 are not errors (fsck -p exits 1 after fixing things).
func run(env []string, name string, args []string, okCodes ...int) (usage, error) {
	u, _, err := runOut(env, name, args, okCodes...)
	return u, err
}

// runOut is run that also returns the command's standard output.
func runOut(env []string, name string, args []string, okCodes ...int) (usage, []byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, out bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	u := usage{Wall: time.Since(start)}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			u.PeakKiB = ru.Maxrss
		}
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			for _, c := range okCodes {
				if ee.ExitCode() == c {
					return u, stdout.Bytes(), nil
				}
			}
		}
		return u, nil, fmt.Errorf("releasebench: %s %s: %w\n%s%s", name, strings.Join(args, " "), err, tail(stdout.String()), tail(out.String()))
	}
	return u, stdout.Bytes(), nil
}

// tail keeps the last lines of a tool's output for an error message.
func tail(s string) string {
	const keep = 2000
	if len(s) > keep {
		return "..." + s[len(s)-keep:]
	}
	return s
}

// haveTool reports whether name is on PATH.
func haveTool(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}
