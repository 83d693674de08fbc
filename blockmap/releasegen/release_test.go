package releasegen

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func small() Config { return Config{Seed: 7, Scale: 0.02} }

func TestPairIsDeterministic(t *testing.T) {
	_, a, err := Pair(small(), "patch")
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Pair(small(), "patch")
	if len(a.Files) != len(b.Files) {
		t.Fatalf("file counts differ: %d vs %d", len(a.Files), len(b.Files))
	}
	for i := range a.Files {
		fa, fb := a.Files[i], b.Files[i]
		if fa.Path != fb.Path || fa.Mode != fb.Mode || fa.Mtime != fb.Mtime || fa.Target != fb.Target ||
			!bytes.Equal(fa.Content(), fb.Content()) {
			t.Fatalf("%s differs between two generations", fa.Path)
		}
	}
}

func TestPatchModelsAnUpdate(t *testing.T) {
	base, next, err := Pair(small(), "patch")
	if err != nil {
		t.Fatal(err)
	}
	has := func(r *Release, p string) bool { return r.Lookup(p) != nil }
	for _, c := range []struct {
		path       string
		base, next bool
	}{
		{"lib/modules/" + kernelOld, true, false},
		{"lib/modules/" + kernelNew, false, true},
		{"usr/lib/" + sslOld, true, false},
		{"usr/lib/" + sslNew, false, true},
		{"usr/bin/" + removedPkg, true, false},
		{"usr/bin/" + addedPkg, false, true},
	} {
		if has(base, c.path) != c.base || has(next, c.path) != c.next {
			t.Errorf("%s: in base %v (want %v), in next %v (want %v)", c.path, has(base, c.path), c.base, has(next, c.path), c.next)
		}
	}
	if got := next.Lookup("usr/lib/libssl.so.3").Target; got != sslNew {
		t.Errorf("libssl.so.3 -> %q, want %q", got, sslNew)
	}
	var same, changed int
	for _, f := range next.Files {
		old := base.Lookup(f.Path)
		if f.Kind != Regular || old == nil {
			continue
		}
		if bytes.Equal(old.Content(), f.Content()) {
			same++
		} else {
			changed++
		}
	}
	if changed == 0 || same < 4*changed {
		t.Errorf("a patch release should change a minority of files: %d changed, %d same", changed, same)
	}
}

func TestNoopIsIdentical(t *testing.T) {
	base, next, err := Pair(small(), "noop")
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Files) != len(next.Files) {
		t.Fatal("noop release changed the file list")
	}
}

func TestWrite(t *testing.T) {
	base, _, _ := Pair(small(), "patch")
	dir := filepath.Join(t.TempDir(), "root")
	if err := base.Write(dir); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if rel == "" {
			return nil
		}
		n++
		f := base.Lookup(filepath.ToSlash(rel))
		if f == nil {
			t.Errorf("%s written but not in the release", rel)
			return nil
		}
		if fi.ModTime().Unix() != f.Mtime {
			t.Errorf("%s: mtime %d, want %d", rel, fi.ModTime().Unix(), f.Mtime)
		}
		if f.Kind == Regular {
			b, _ := os.ReadFile(p)
			if sha256.Sum256(b) != sha256.Sum256(f.Content()) {
				t.Errorf("%s: content differs", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(base.Files) {
		t.Errorf("wrote %d paths, release has %d", n, len(base.Files))
	}
}
