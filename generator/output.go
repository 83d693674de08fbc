package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// An output path is one of three things, decided before any work starts:
//
//   - a file: a path that does not exist yet or names a regular file
//     (through symlinks, which are kept). It is written to a temporary
//     file next to the file and renamed over it, so it appears whole or
//     not at all;
//   - a stream: "-" (standard output), a descriptor of this process
//     (/dev/stdout, /dev/fd/N, /proc/self/fd/N), a FIFO or a character
//     device (/dev/null, a terminal). It is written through, once, after
//     everything else succeeded; it is never created, unlinked or renamed;
//   - refused (exit 2): a directory, a block device, a socket, or any other
//     file of /proc or /sys. lvm-um-gen never writes over a device or a
//     kernel interface, whatever the path is called.
type outKind int

const (
	outFile outKind = iota
	outStream
)

// output is one path the run writes, resolved.
type output struct {
	flag string // the flag that names it, for messages
	path string // as given
	kind outKind
	// target is the file a outFile is renamed over, or the FIFO or
	// character device a stream opens (symlinks resolved).
	target string
	// fd >= 0: a stream to this process's own descriptor (no open).
	fd int
	// chardev: a stream to a character device, which several outputs
	// may share (two outputs to /dev/null are harmless).
	chardev bool
}

// stdoutFD is standard output's descriptor.
const stdoutFD = 1

// maxLinks bounds the symlinks followed while resolving a path (Linux's
// MAXSYMLINKS).
const maxLinks = 40

// resolveOutput decides how path is written (see outKind) or returns why
// it cannot be.
func resolveOutput(flag, path string) (*output, error) {
	out := &output{flag: flag, path: path, fd: -1}
	if path == "-" {
		out.kind, out.fd = outStream, stdoutFD
		return out, nil
	}
	final, fd, err := resolveLinks(path)
	if err != nil {
		return nil, err
	}
	if fd >= 0 {
		out.kind, out.fd = outStream, fd
		return out, nil
	}
	out.target = final
	if underKernelFS(final) {
		return nil, errors.New("is a file of /proc or /sys, not an output")
	}
	fi, err := os.Lstat(final)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out.kind = outFile
		return out, nil
	case err != nil:
		return nil, err
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		out.kind = outFile
	case m&fs.ModeNamedPipe != 0:
		out.kind = outStream
	case m&fs.ModeCharDevice != 0:
		out.kind, out.chardev = outStream, true
	case m.IsDir():
		return nil, errors.New("is a directory")
	case m&fs.ModeDevice != 0:
		return nil, errors.New("is a block device; outputs are written only to files, pipes and character devices")
	default:
		return nil, fmt.Errorf("is a %s, not a file, pipe or character device", typeName(m))
	}
	return out, nil
}

// resolveLinks follows the symlinks of path, its directories' and its
// own, and returns the path they end at (which need not exist; its
// directory must). When they end at a descriptor of this process
// (/proc/self/fd/N, which /dev/stdout and /dev/fd/N lead to), it returns
// that descriptor instead, without following the descriptor's magic link.
func resolveLinks(path string) (final string, fd int, err error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", -1, err
	}
	for range maxLinks {
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", -1, fmt.Errorf("directory: %w", unwrapPath(err))
		}
		if fi, err := os.Stat(dir); err != nil {
			return "", -1, err
		} else if !fi.IsDir() {
			return "", -1, fmt.Errorf("%s is not a directory", dir)
		}
		p = filepath.Join(dir, filepath.Base(p))
		if n, ok := ownFD(p); ok {
			return "", n, nil
		}
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p, -1, nil
		}
		t, err := os.Readlink(p)
		if err != nil {
			return "", -1, err
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(dir, t)
		}
		p = t
	}
	return "", -1, errors.New("too many levels of symbolic links")
}

// ownFD reports whether p is /proc/self/fd/N or /proc/<this pid>/fd/N.
func ownFD(p string) (int, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return 0, false
	}
	pid, rest, ok := strings.Cut(rest, "/fd/")
	if !ok || (pid != "self" && pid != strconv.Itoa(os.Getpid())) {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func underKernelFS(p string) bool {
	for _, root := range []string{"/proc", "/sys"} {
		if p == root || strings.HasPrefix(p, root+"/") {
			return true
		}
	}
	return false
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "special file"
}

// unwrapPath drops the *fs.PathError wrapper of err, whose path the
// message names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stdout reports whether the output is this process's standard output.
func (o *output) stdout() bool { return o.kind == outStream && o.fd == stdoutFD }

// sameAs reports whether o and other would write the same file: equal
// targets or inodes, or one descriptor. Character devices may be shared.
func (o *output) sameAs(other *output) bool {
	if o.chardev && other.chardev {
		return false
	}
	if o.fd >= 0 || other.fd >= 0 {
		return o.fd == other.fd
	}
	return samePath(o.target, other.target)
}

// openStream opens a stream output for writing: this process's own
// descriptor (duplicated, so closing it leaves the descriptor open), or
// the FIFO or character device, without creating or truncating anything.
func (o *output) openStream() (*os.File, error) {
	if o.fd >= 0 {
		n, err := unix.Dup(o.fd)
		if err != nil {
			return nil, fmt.Errorf("descriptor %d: %w", o.fd, err)
		}
		unix.CloseOnExec(n)
		return os.NewFile(uintptr(n), o.path), nil
	}
	return os.OpenFile(o.target, os.O_WRONLY|unix.O_NOCTTY, 0)
}
