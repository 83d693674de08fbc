package ext4test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv names the environment variable that turns a missing
// tool from a skip into a failure (CI sets it).
const RequireToolsEnv = "LVMUM_REQUIRE_TOOLS"

// RequireTools skips the test when any of the named programs is missing
// from PATH, or fails it when LVMUM_REQUIRE_TOOLS=1.
func RequireTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv(RequireToolsEnv) == "1" {
				t.Fatalf("ext4test: required tool %s missing: %v", n, err)
			}
			t.Skipf("ext4test: tool %s missing (set %s=1 to fail instead)", n, RequireToolsEnv)
		}
	}
}

// Tool returns the path of the program name, after RequireTools: the
// test skips when it is missing, or fails when LVMUM_REQUIRE_TOOLS=1.
func Tool(t testing.TB, name string) string {
	t.Helper()
	RequireTools(t, name)
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// HaveTools reports whether every named program is on PATH, for what a
// test adds only when it can (another reader's check, fuzz seeds from a
// real image). Under LVMUM_REQUIRE_TOOLS=1 a missing one fails the test
// instead, so CI never silently checks less.
func HaveTools(t testing.TB, names ...string) bool {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv(RequireToolsEnv) == "1" {
				t.Fatalf("ext4test: required tool %s missing: %v", n, err)
			}
			return false
		}
	}
	return true
}

// run executes a program and returns its stdout and stderr; err is non-nil
// when it could not start or exited non-zero (then *exec.ExitError).
func run(env []string, name string, args ...string) (stdout, stderr []byte, err error) {
	cmd := exec.Command(name, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

// exitCode is the exit status of a finished command, or -1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// toolError formats a failed run with its output.
func toolError(what string, err error, stdout, stderr []byte) error {
	return fmt.Errorf("ext4test: %s: %w\n--- stdout:\n%s\n--- stderr:\n%s", what, err, stdout, stderr)
}
