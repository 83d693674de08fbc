package ext4test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// debugfsPrompt starts the line debugfs echoes for every command it runs
// from a command file; the command's output follows it.
const debugfsPrompt = "debugfs: "

// debugfsBatch runs every command in one debugfs process (-f) and returns
// each command's stdout lines keyed by the command text. Commands must be
// unique. write opens the image read-write (-w).
func debugfsBatch(img string, cmds []string, write bool, scratch string) (map[string][]string, error) {
	out := make(map[string][]string, len(cmds))
	if len(cmds) == 0 {
		return out, nil
	}
	f, err := os.CreateTemp(scratch, "debugfs-cmds-*")
	if err != nil {
		return nil, fmt.Errorf("ext4test: debugfs command file: %w", err)
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	for _, c := range cmds {
		if strings.ContainsAny(c, "\n") {
			f.Close()
			return nil, fmt.Errorf("ext4test: debugfs command has a newline: %q", c)
		}
		w.WriteString(c)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("ext4test: debugfs command file: %w", err)
	}
	f.Close()
	args := []string{"-f", f.Name(), img}
	if write {
		args = append([]string{"-w"}, args...)
	}
	var env []string
	if write {
		// debugfs -w stamps the superblock's write time.
		env = []string{fakeTimeEnv + "=" + strconv.FormatInt(DefaultFakeTime, 10)}
	}
	stdout, stderr, err := run(env, "debugfs", args...)
	if err != nil {
		return nil, toolError("debugfs "+strings.Join(args, " "), err, stdout, stderr)
	}
	var cur string
	have := false
	for _, line := range strings.Split(string(stdout), "\n") {
		if c, ok := strings.CutPrefix(line, debugfsPrompt); ok {
			cur, have = c, true
			if _, dup := out[cur]; !dup {
				out[cur] = nil
			}
			continue
		}
		if have {
			out[cur] = append(out[cur], line)
		}
	}
	for _, c := range cmds {
		if _, ok := out[c]; !ok {
			return nil, fmt.Errorf("ext4test: debugfs on %s did not run %q (stderr: %s)", img, c,
				bytes.TrimSpace(stderr))
		}
	}
	return out, nil
}

// shmDir is preferred for debugfs's dump files: dumping thousands of
// files to a disk-backed /tmp is ~30x slower (debugfs writes each one
// synchronously through the host's journal).
const shmDir = "/dev/shm"

// debugfsScratch makes a directory for debugfs's dump files.
func debugfsScratch() (string, error) {
	d, err := os.MkdirTemp(shmDir, "ext4test-debugfs-*")
	if err == nil {
		return d, nil
	}
	d, err = os.MkdirTemp("", "ext4test-debugfs-*")
	if err != nil {
		return "", fmt.Errorf("ext4test: scratch dir: %w", err)
	}
	return filepath.Clean(d), nil
}
