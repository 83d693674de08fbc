package dirsource

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func TestContentsEach(t *testing.T) {
	root, _ := fixture(t)
	tr, err := Read(root, Options{})
	must(t, err)
	var paths []string
	got := map[string][]byte{}
	must(t, tr.Contents.Each(func(n *tree.Node, r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		paths = append(paths, n.Path)
		got[n.Path] = data
		return nil
	}))
	// One per hard-link group (etc/hosts, not its links), no empty files,
	// sorted.
	want := []string{"bin/su", "etc/hosts", "sparse"}
	if strings.Join(paths, ",") != strings.Join(want, ",") {
		t.Fatalf("Each yielded %q, want %q", paths, want)
	}
	if string(got["etc/hosts"]) != "127.0.0.1 localhost\n" {
		t.Errorf("etc/hosts content %q", got["etc/hosts"])
	}
	sp := got["sparse"]
	if len(sp) != 1<<20 || !bytes.Equal(sp[512<<10:520<<10], bytes.Repeat([]byte{0xAB}, 8192)) || sp[0] != 0 {
		t.Errorf("sparse content wrong (len %d)", len(sp))
	}
	// Each can run again, and fn may leave the reader unread.
	must(t, tr.Contents.Each(func(*tree.Node, io.Reader) error { return nil }))
	// fn's error stops the walk and is returned as is.
	stop := errors.New("stop")
	if err := tr.Contents.Each(func(*tree.Node, io.Reader) error { return stop }); err != stop {
		t.Errorf("fn error came back as %v", err)
	}
}

// changedTree reads a one-file directory and returns it with the reader,
// so a test can hook in between read and check.
func changedTree(t *testing.T) (*tree.Tree, *reader, string) {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, "f")
	write(t, path, []byte("hello"), 0o644)
	touch(t, path)
	r := &reader{root: root, open: openNoFollow}
	tr, err := r.read()
	must(t, err)
	return tr, r, path
}

func readAll(_ *tree.Node, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

func TestContentsChangedWhileRead(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"grown": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteString(" world")
			must(t, err)
			must(t, f.Close())
			touch(t, path) // same mtime: only the size gives it away
		},
		"rewritten in place": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("J"), 0)
			must(t, err)
			must(t, f.Close())
			ts := []unix.Timespec{fixedTime, {Sec: fixedTime.Sec, Nsec: fixedTime.Nsec + 1}}
			must(t, unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, 0))
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			tr, r, path := changedTree(t)
			r.afterRead = func(*tree.Node, string) { change(t, path) }
			err := tr.Contents.Each(readAll)
			if !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "/f changed while read") {
				t.Errorf("error %v", err)
			}
		})
	}
}

// TestContentsShrunk changes the file between Read and Each: the reader
// comes up short and Each says so rather than yielding fewer bytes.
func TestContentsShrunk(t *testing.T) {
	tr, _, path := changedTree(t)
	must(t, os.Truncate(path, 2))
	touch(t, path)
	if err := tr.Contents.Each(readAll); !errors.Is(err, ErrChanged) {
		t.Errorf("error %v", err)
	}
}

// TestContentsReplacedBySymlink: a file swapped for a symlink after Read is
// not followed.
func TestContentsReplacedBySymlink(t *testing.T) {
	tr, _, path := changedTree(t)
	must(t, os.Remove(path))
	must(t, os.Symlink("/etc/passwd", path))
	if err := tr.Contents.Each(readAll); !errors.Is(err, unix.ELOOP) {
		t.Errorf("error %v", err)
	}
}
