package ext4test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

func snap(judge string, known Field, es ...*Entry) *Snapshot {
	s := newSnapshot(judge, known)
	for _, e := range es {
		s.Entries[e.Path] = e
	}
	return s
}

func TestDiffLostFoundAndLinks(t *testing.T) {
	t.Parallel()
	root := func(nlink uint32) *Entry { return &Entry{Path: "", Kind: tree.Dir, Mode: 0o755, Nlink: nlink} }
	want := snap("dir", FieldsAll, root(2),
		&Entry{Path: "a", Kind: tree.Regular, Nlink: 2, Ino: 10},
		&Entry{Path: "b", Kind: tree.Regular, Nlink: 2, Ino: 10})
	got := snap("img", FieldsAll, root(3),
		&Entry{Path: LostFound, Kind: tree.Dir, Mode: 0o700, Nlink: 2, Ino: 11},
		&Entry{Path: "a", Kind: tree.Regular, Nlink: 2, Ino: 20},
		&Entry{Path: "b", Kind: tree.Regular, Nlink: 2, Ino: 20})
	if d := Diff(want, got, CompareOptions{LostFound: true}); len(d) != 0 {
		t.Errorf("LostFound: %q", d)
	}
	wantD := []string{"/: nlink: want 2, got 3", "lost+found: unexpected: want nothing, got directory"}
	if d := Diff(want, got, CompareOptions{}); !reflect.DeepEqual(d, wantD) {
		t.Errorf("no LostFound: %q, want %q", d, wantD)
	}
	got.Entries["b"] = &Entry{Path: "b", Kind: tree.Regular, Nlink: 2, Ino: 21}
	got.Entries["a"].Nlink = 1
	got.Entries["b"].Nlink = 1
	d := Diff(want, got, CompareOptions{LostFound: true})
	wantD = []string{"a: hardlinks: want [a b], got []", "a: nlink: want 2, got 1", "b: nlink: want 2, got 1"}
	if !reflect.DeepEqual(d, wantD) {
		t.Errorf("broken link: %q, want %q", d, wantD)
	}
}

func TestDiffTimePolicies(t *testing.T) {
	t.Parallel()
	m := Time{Sec: 1000, Nsec: 5}
	want := snap("dir", FieldsAll, &Entry{Path: "", Kind: tree.Dir, Mtime: m, Atime: Time{Sec: 1}})
	got := snap("img", FieldsAll, &Entry{Path: "", Kind: tree.Dir, Mtime: m, Atime: m, Ctime: m, Crtime: Time{Sec: 1000}})
	if d := Diff(want, got, CompareOptions{Times: TimesIgnore}); len(d) != 0 {
		t.Errorf("TimesIgnore: %q", d)
	}
	if d := Diff(want, got, CompareOptions{Times: TimesEqualMtime}); !reflect.DeepEqual(d,
		[]string{"/: crtime: want 1000.000000005, got 1000.000000000"}) {
		t.Errorf("TimesEqualMtime: %q", d)
	}
	if d := Diff(want, got, CompareOptions{Times: TimesEqualEpoch, Epoch: 1000}); len(d) != 2 {
		t.Errorf("TimesEqualEpoch: %q", d)
	}
	if d := Diff(want, got, CompareOptions{Times: TimesExact, Ignore: FieldCtime | FieldCrtime}); !reflect.DeepEqual(d,
		[]string{"/: atime: want 1.000000000, got 1000.000000005"}) {
		t.Errorf("TimesExact: %q", d)
	}
	// A judge that cannot see a field is never blamed for it.
	g2 := snap("go-ext4", goext4Known, &Entry{Path: "", Kind: tree.Dir, Mtime: Time{Sec: 1000}})
	if d := Diff(want, g2, CompareOptions{Times: TimesEqualMtime}); len(d) != 0 {
		t.Errorf("go-ext4: %q", d)
	}
	if d := Diff(want, got, CompareOptions{IgnoreAt: map[string]Field{"": FieldsAll}, Times: TimesEqualMtime}); len(d) != 1 {
		t.Errorf("IgnoreAt must not hide the time policy: %q", d)
	}
}

func TestDiffValuesAndTargets(t *testing.T) {
	t.Parallel()
	want := snap("dir", FieldsAll, &Entry{Path: "", Kind: tree.Dir},
		&Entry{Path: "l", Kind: tree.Symlink, Target: "a//b/", Size: 5},
		&Entry{Path: "f", Kind: tree.Regular, Xattrs: map[string][]byte{"user.a": {0, 1}, "user.b": []byte("x")}})
	got := snap("go-ext4", FieldsAll, &Entry{Path: "", Kind: tree.Dir},
		&Entry{Path: "l", Kind: tree.Symlink, Target: "a/b", Size: 5},
		&Entry{Path: "f", Kind: tree.Regular, Xattrs: map[string][]byte{"user.a": {0, 2}, "user.c": nil}})
	got.CleanTargets = true
	wantD := []string{`f: xattr user.a: want 0x0001, got 0x0002`, `f: xattr user.b: want "x", got nothing`,
		`f: xattr user.c: want nothing, got ""`}
	if d := Diff(want, got, CompareOptions{}); !reflect.DeepEqual(d, wantD) {
		t.Errorf("%q, want %q", d, wantD)
	}
	got.CleanTargets = false
	if d := Diff(want, got, CompareOptions{Ignore: FieldXattrs}); !reflect.DeepEqual(d,
		[]string{`l: target: want "a//b/", got "a/b"`}) {
		t.Errorf("target: %q", d)
	}
}

func TestNormalizeACL(t *testing.T) {
	t.Parallel()
	in := []byte{2, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 2, 0, 7, 0, 0xe8, 3, 0, 0, 0x20, 0, 4, 0, 0, 0, 0, 0}
	want := []byte{2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 7, 0, 0xe8, 3, 0, 0, 0x20, 0, 4, 0, 0xff, 0xff, 0xff, 0xff}
	if got := normalizeACL(aclAccess, in); !reflect.DeepEqual(got, want) {
		t.Errorf("normalizeACL = %x, want %x", got, want)
	}
	if got := normalizeACL("user.x", in); !reflect.DeepEqual(got, in) {
		t.Errorf("non-ACL changed")
	}
	if got := normalizeACL(aclAccess, in[:7]); !reflect.DeepEqual(got, in[:7]) {
		t.Errorf("malformed ACL changed")
	}
}

// Garbage from debugfs must give errors, never panics.
func TestParsersRejectGarbage(t *testing.T) {
	t.Parallel()
	for _, l := range [][]string{{"/x/y/"}, {"/1/099/0/0/a/0/"}, {"nonsense"}, {"/1/2/3/4/5/6/7/8/"}} {
		if _, err := parseLsP(l); err == nil {
			t.Errorf("parseLsP(%q): no error", l)
		}
	}
	if _, err := parseStat(5, []string{"Inode: 5", "EXTENTS:", "(x):1"}); err == nil {
		t.Error("parseStat: no error on bad extent")
	}
	if _, err := parseStat(5, nil); err == nil {
		t.Error("parseStat: no error on empty output")
	}
	var ext []extentRange
	if err := parseExtentLine("(5-3):10-8", &ext); err == nil {
		t.Error("parseExtentLine: reversed range accepted")
	}
	ext = nil
	if err := parseExtentLine("(ETB0):99, (0-1):100-101, (4):200, (6[u]):300", &ext); err != nil {
		t.Fatal(err)
	}
	segs := dataRanges(ext, 1024, 4500)
	if got := fmtSegs(segs); got != "[0+2048 4096+404]" { // (6[u]) lies past the end
		t.Errorf("dataRanges = %s", got)
	}
	ext = nil
	if err := parseExtentLine("(0-11):200-211, (IND):212, (12):213", &ext); err != nil || len(ext) != 2 {
		t.Errorf("block map: %v %v", ext, err)
	}
	if _, err := parseBlockSize([]string{"nothing"}); err == nil {
		t.Error("parseBlockSize: no error")
	}
}

func TestCompareReportsOnceAndCaps(t *testing.T) {
	t.Parallel()
	want := snap("dir", FieldsAll, &Entry{Path: "", Kind: tree.Dir})
	got := snap("img", FieldsAll, &Entry{Path: "", Kind: tree.Dir})
	for i := 0; i < 5; i++ {
		p := string(rune('a' + i))
		want.Entries[p] = &Entry{Path: p, Kind: tree.Regular, Mode: 0o644}
		got.Entries[p] = &Entry{Path: p, Kind: tree.Regular, Mode: 0o600}
	}
	c := &captureTB{TB: t}
	if Compare(c, want, got, CompareOptions{MaxReport: 2}) {
		t.Fatal("Compare found no difference")
	}
	if len(c.msgs) != 1 || !strings.Contains(c.msgs[0], "5 differences") ||
		!strings.Contains(c.msgs[0], "a: mode: want 0644, got 0600") || !strings.Contains(c.msgs[0], "... and 3 more") ||
		strings.Contains(c.msgs[0], "c: mode") {
		t.Errorf("message: %q", c.msgs)
	}
}
