package tarsource

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// TestHostile: every refused archive names the archive and the entry and
// matches both its own cause and ErrInvalid.
func TestHostile(t *testing.T) {
	long := strings.Repeat("n", 256)
	cases := []struct {
		name    string
		entries []ent
		want    error
		msg     string // a substring the message must hold
	}{
		{"absolute", []ent{reg("/etc/passwd", 0o644, "x")}, ErrAbsolute, `"/etc/passwd"`},
		{"dotdot", []ent{dir("a", 0o755), reg("a/../../x", 0o644, "x")}, ErrDotDot, `"a/../../x"`},
		{"dotdot-link-target", []ent{link("x", "../etc/shadow")}, ErrDotDot, "hard link target"},
		{"absolute-link-target", []ent{link("x", "/etc/shadow")}, ErrAbsolute, "hard link target"},
		{"through-symlink", []ent{symlink("etc", "/etc"), reg("etc/passwd", 0o644, "x")}, ErrThroughSymlink, "/etc is a symlink"},
		{"through-symlink-deep", []ent{dir("a", 0o755), symlink("a/b", "/"), dir("a/b/c", 0o755)}, ErrThroughSymlink, "/a/b is a symlink"},
		{"through-symlink-later", []ent{dir("a", 0o755), reg("a/f", 0o644, "x"), symlink("a", "/tmp")}, ErrThroughSymlink, "/a is a symlink"},
		{"link-through-symlink", []ent{symlink("s", "/"), link("x", "s/etc/shadow")}, ErrThroughSymlink, "hard link target"},
		{"name-too-long", []ent{reg(long, 0o644, "x")}, ErrNameTooLong, "256 bytes"},
		{"dir-name-too-long", []ent{reg(long+"/f", 0o644, "x")}, ErrNameTooLong, "256 bytes"},
		{"link-missing", []ent{link("x", "nowhere")}, ErrBadLink, `"nowhere"`},
		{"link-later", []ent{link("x", "y"), reg("y", 0o644, "y")}, ErrBadLink, `"y" is not an earlier entry`},
		{"link-to-dir", []ent{dir("d", 0o755), link("x", "d")}, ErrBadLink, "directory"},
		{"unknown-type", []ent{{hdr: tar.Header{Typeflag: 'Z', Name: "odd", Mode: 0o644}}}, ErrUnknownType, `'Z'`},
		{"missing-parent", []ent{reg("a/b/c", 0o644, "x"), dir("a", 0o755)}, ErrMissingParent, "/a/b"},
		{"parent-is-file", []ent{reg("a", 0o644, "x"), reg("a/b", 0o644, "x")}, ErrMissingParent, "/a is a regular"},
		{"root-not-dir", []ent{reg(".", 0o644, "")}, ErrBadEntry, "root entry"},
		{"root-link", []ent{reg("f", 0o644, "x"), link(".", "f")}, ErrBadEntry, "root entry"},
		{"empty-symlink", []ent{symlink("s", "")}, ErrBadEntry, "symlink target"},
		{"xattr-too-big", []ent{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.xattr.user.big": strings.Repeat("v", 65537)}}}}, ErrBadEntry, "user.big"},
		{"bad-text-acl", []ent{{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o755,
			PAXRecords: map[string]string{"SCHILY.acl.access": "user:bob:rwx"}}}}, ErrBadEntry, "numeric id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, p, err := openEntries(t, c.entries, Options{})
			if !errors.Is(err, c.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want %v (and ErrInvalid)", err, c.want)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("message %q lacks the archive path or %q", err, c.msg)
			}
		})
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrAbsolute, ErrDotDot, ErrThroughSymlink, ErrNameTooLong, ErrBadLink, ErrUnknownType,
		ErrMissingParent, ErrBadEntry, ErrCorrupt, ErrTooLarge, ErrTooMany, ErrNotTar, ErrDictTooLarge}
	for i, a := range all {
		for j, b := range all {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
		if !errors.Is(a, ErrInvalid) {
			t.Errorf("%v is not ErrInvalid", a)
		}
	}
}

// TestTruncated cuts a valid archive at many points, plain and
// compressed: every cut is an error (ErrCorrupt), never a short tree.
func TestTruncated(t *testing.T) {
	raw := tarBytes(t, []ent{dir("d", 0o755), reg("d/f", 0o644, strings.Repeat("data", 3000)), reg("g", 0o644, "tail")})
	for _, comp := range []Compression{None, Gzip, Bzip2, Xz, Zstd} {
		data, ok := compress(t, raw, comp)
		if !ok {
			continue // no bzip2 CLI; TestCompressions reports it
		}
		cuts := []int{len(data) - 1, len(data) - blockSize}
		for cut := 1; cut < len(data); cut += 97 {
			cuts = append(cuts, cut)
		}
		for _, cut := range cuts {
			if cut <= 0 {
				continue
			}
			p := writeFile(t, data[:cut])
			tr, err := Open(p, Options{})
			if err == nil {
				err = tr.Contents.Each(func(*tree.Node, io.Reader) error { return nil })
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%s cut at %d of %d: err = %v, want ErrInvalid", comp, cut, len(data), err)
			}
		}
	}
}

func TestCorruptCompressed(t *testing.T) {
	raw := tarBytes(t, []ent{reg("f", 0o644, strings.Repeat("abc", 1000))})
	data, _ := compress(t, raw, Gzip)
	bad := append([]byte(nil), data...)
	bad[len(bad)-6] ^= 0xff // the CRC32 in the trailer
	_, err := Open(writeFile(t, bad), Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestNotTar(t *testing.T) {
	_, err := Open(writeFile(t, []byte(strings.Repeat("not a tar archive\n", 100))), Options{})
	if !errors.Is(err, ErrNotTar) {
		t.Fatalf("err = %v, want ErrNotTar", err)
	}
}

// TestBomb: content past MaxBytes stops reading with ErrTooLarge, also
// when the stream is a highly compressed run of zeros.
func TestBomb(t *testing.T) {
	big := tarBytes(t, []ent{reg("a", 0o644, strings.Repeat("\x00", 1<<20)), reg("b", 0o644, strings.Repeat("\x00", 1<<20))})
	data, _ := compress(t, big, Zstd)
	p := writeFile(t, data)
	if _, err := Open(p, Options{MaxBytes: 1<<20 + 1}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("err = %v, want ErrTooLarge at entry b", err)
	}
	if _, err := Open(p, Options{MaxBytes: 2 << 20}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
	if _, err := Open(p, Options{MaxEntries: 2}); err != nil {
		t.Fatalf("2 entries with MaxEntries 2: %v", err)
	}
	if _, err := Open(p, Options{MaxEntries: 1}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("err = %v, want ErrTooMany", err)
	}
	if _, err := Open(p, Options{MaxMetaBytes: 1}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("err = %v, want ErrTooMany", err)
	}
}

// TestChanged: Each refuses an archive rewritten after Open.
func TestChanged(t *testing.T) {
	tr, p, err := openEntries(t, []ent{reg("f", 0o644, "one")}, Options{})
	must(t, err)
	must(t, os.WriteFile(p, tarBytes(t, []ent{reg("f", 0o644, "other")}), 0o644))
	err = tr.Contents.Each(func(*tree.Node, io.Reader) error { return nil })
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("err = %v, want ErrChanged", err)
	}
}
