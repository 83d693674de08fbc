package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binPath is the lvm-um-gen binary TestMain builds once, pure Go.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lvm-um-gen-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "lvm-um-gen")
	build := exec.Command("go", "build", "-tags", "nopkcs11", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build lvm-um-gen: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runBinary(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stdout.String(), stderr.String()
}

func TestBinaryExitCodes(t *testing.T) {
	if code, out, _ := runBinary(t, "version"); code != 0 || !strings.HasPrefix(out, "lvm-um-gen ") {
		t.Fatalf("version: %d %q", code, out)
	}
	for _, c := range []string{"generate", "estimate", "diff", "version"} {
		code, out, _ := runBinary(t, c, "--help")
		if code != 0 || !strings.Contains(out, "Examples:") {
			t.Fatalf("%s --help: exit %d\n%s", c, code, out)
		}
	}
	if code, _, stderr := runBinary(t, "diff", "/nonexistent/a", "/nonexistent/b"); code != exitUsage || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("diff missing: %d %q", code, stderr)
	}
	// The base is not ext4: generate fails as bad input, writing nothing.
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	if err := os.WriteFile(base, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runBinary(t, "generate", "--base", base, "--rootfs", dir, "--snapshot-size", "32MiB", "-n", "a", "-t", "d", "-o", filepath.Join(dir, "a.mender"))
	if code != exitUsage || !strings.Contains(stderr, "not an ext4 image") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("generate: %d %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.mender")); !os.IsNotExist(err) {
		t.Fatalf("artifact exists: %v", err)
	}
}

// TestBinarySIGINT interrupts a long diff and expects exit 1 with one
// line saying so, not a crash or a hang.
func TestBinarySIGINT(t *testing.T) {
	dir := t.TempDir()
	const size = 8 << 30 // sparse: costs no disk, takes seconds to hash
	var paths []string
	for _, name := range []string{"a", "b"} {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, p)
	}
	cmd := exec.Command(binPath, "diff", paths[0], paths[1])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // past start-up, so the handler is installed
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitFailure {
			t.Fatalf("exit: %v; stderr %q", err, stderr.String())
		}
		if got := stderr.String(); got != "lvm-um-gen: interrupted; nothing was written\n" {
			t.Fatalf("stderr %q", got)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("diff did not stop after SIGINT")
	}
}
