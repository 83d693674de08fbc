package ext4test

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// TimePolicy says how Compare checks atime, ctime and crtime.
type TimePolicy int

const (
	// TimesIgnore does not check atime, ctime or crtime.
	TimesIgnore TimePolicy = iota
	// TimesExact compares them with want's (two judges of one image).
	TimesExact
	// TimesEqualMtime requires each to equal got's own mtime: the
	// engine's deterministic policy when SOURCE_DATE_EPOCH is unset.
	TimesEqualMtime
	// TimesEqualEpoch requires each to equal CompareOptions.Epoch (ns 0):
	// the engine's policy when SOURCE_DATE_EPOCH is set.
	TimesEqualEpoch
)

// LostFound is the directory mkfs creates in every image's root.
const LostFound = "lost+found"

// CompareOptions tune Compare for a pair of judges.
type CompareOptions struct {
	// Ignore lists fields never compared (on top of those a judge cannot
	// see, which are skipped anyway).
	Ignore Field
	// IgnorePaths are skipped with everything below them, on both sides.
	IgnorePaths []string
	// IgnoreAt ignores fields at single paths (e.g. mkfs -d gives the
	// root directory E2FSPROGS_FAKE_TIME, not the source's times).
	IgnoreAt map[string]Field
	// LostFound lets got hold /lost+found (and its children) when want
	// does not, as mkfs -d adds it; the root's link count is adjusted.
	LostFound bool
	// Times is the atime/ctime/crtime policy; Epoch is used by
	// TimesEqualEpoch.
	Times TimePolicy
	Epoch int64
	// MaxReport caps the differences printed (0: 200).
	MaxReport int
}

// EngineTimePolicy is the engine's time policy as the environment sets
// it: TimesEqualEpoch with SOURCE_DATE_EPOCH when that is set, else
// TimesEqualMtime.
func EngineTimePolicy() (TimePolicy, int64) {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return TimesEqualEpoch, n
		}
	}
	return TimesEqualMtime, 0
}

const defaultMaxReport = 200

// Compare reports every difference between want and got through t.Errorf
// (one call listing all of them) and returns true when there is none.
func Compare(t testing.TB, want, got *Snapshot, o CompareOptions) bool {
	t.Helper()
	d := Diff(want, got, o)
	if len(d) == 0 {
		return true
	}
	max := o.MaxReport
	if max <= 0 {
		max = defaultMaxReport
	}
	shown := d
	if len(shown) > max {
		shown = shown[:max]
	}
	msg := fmt.Sprintf("ext4test: %s (want) vs %s (got): %d differences:\n  %s",
		want.Judge, got.Judge, len(d), strings.Join(shown, "\n  "))
	if len(d) > max {
		msg += fmt.Sprintf("\n  ... and %d more", len(d)-max)
	}
	t.Errorf("%s", msg)
	return false
}

// Diff returns every difference between want and got, one line each,
// "path: field: want X, got Y", sorted by path.
func Diff(want, got *Snapshot, o CompareOptions) []string {
	fields := want.Known & got.Known &^ o.Ignore
	skip := func(p string, inWant bool) bool {
		for _, ip := range o.IgnorePaths {
			if p == ip || strings.HasPrefix(p, ip+"/") {
				return true
			}
		}
		if o.LostFound && !inWant && (p == LostFound || strings.HasPrefix(p, LostFound+"/")) {
			return true
		}
		return false
	}
	lfSkipped := o.LostFound && want.Entries[LostFound] == nil && got.Entries[LostFound] != nil
	wl, gl := want.linkGroups(), got.linkGroups()
	linkSeen := map[string]bool{}
	var out []string
	add := func(p, field, format string, args ...any) {
		name := p
		if name == "" {
			name = "/"
		}
		out = append(out, fmt.Sprintf("%s: %s: ", name, field)+fmt.Sprintf(format, args...))
	}
	for _, p := range want.Paths() {
		if skip(p, true) {
			continue
		}
		w, g := want.Entries[p], got.Entries[p]
		if g == nil {
			add(p, "missing", "want %s, got nothing", w.Kind)
			continue
		}
		if fields&FieldKind != 0 && w.Kind != g.Kind {
			add(p, "kind", "want %s, got %s", w.Kind, g.Kind)
			continue
		}
		diffEntry(w, g, fields&^o.IgnoreAt[p]&^w.Unknown&^g.Unknown, o, want, got, add)
		if p == "" && fields&^o.IgnoreAt[p]&FieldNlink != 0 {
			gn := g.Nlink
			if lfSkipped && gn > 0 {
				gn--
			}
			if w.Nlink != gn {
				add(p, "nlink", "want %d, got %d", w.Nlink, gn)
			}
		}
		if fields&FieldLinks != 0 && w.Kind != tree.Dir {
			wg, gg := strings.Join(wl[p], " "), strings.Join(gl[p], " ")
			if k := wg + "|" + gg; wg != gg && !linkSeen[k] {
				linkSeen[k] = true
				add(p, "hardlinks", "want [%s], got [%s]", wg, gg)
			}
		}
	}
	for _, p := range got.Paths() {
		if want.Entries[p] == nil && !skip(p, false) {
			add(p, "unexpected", "want nothing, got %s", got.Entries[p].Kind)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// diffEntry compares one path's fields (all but kind, root nlink, links).
func diffEntry(w, g *Entry, fields Field, o CompareOptions, want, got *Snapshot, add func(p, f, format string, a ...any)) {
	p := w.Path
	if fields&FieldMode != 0 && w.Mode != g.Mode {
		add(p, "mode", "want %04o, got %04o", w.Mode, g.Mode)
	}
	if fields&FieldUID != 0 && w.UID != g.UID {
		add(p, "uid", "want %d, got %d", w.UID, g.UID)
	}
	if fields&FieldGID != 0 && w.GID != g.GID {
		add(p, "gid", "want %d, got %d", w.GID, g.GID)
	}
	sized := w.Kind == tree.Regular || w.Kind == tree.Symlink
	if fields&FieldSize != 0 && sized && w.Size != g.Size {
		add(p, "size", "want %d, got %d", w.Size, g.Size)
	}
	if fields&FieldMtime != 0 && w.Mtime.Sec != g.Mtime.Sec {
		add(p, "mtime", "want %s, got %s", fmtTime(w.Mtime), fmtTime(g.Mtime))
	} else if fields&FieldMtimeNs != 0 && w.Mtime.Nsec != g.Mtime.Nsec {
		add(p, "mtime-nsec", "want %s, got %s", fmtTime(w.Mtime), fmtTime(g.Mtime))
	}
	diffTimes(w, g, fields, o, got, add)
	if fields&FieldNlink != 0 && p != "" && w.Nlink != g.Nlink {
		add(p, "nlink", "want %d, got %d", w.Nlink, g.Nlink)
	}
	if fields&FieldTarget != 0 && w.Kind == tree.Symlink {
		wt, gt := w.Target, g.Target
		if want.CleanTargets || got.CleanTargets {
			wt, gt = path.Clean(wt), path.Clean(gt)
		}
		if wt != gt {
			add(p, "target", "want %q, got %q", clip(wt), clip(gt))
		}
	}
	if fields&FieldDevice != 0 && (w.Kind == tree.CharDev || w.Kind == tree.BlockDev) &&
		(w.Major != g.Major || w.Minor != g.Minor) {
		add(p, "device", "want %d:%d, got %d:%d", w.Major, w.Minor, g.Major, g.Minor)
	}
	if fields&FieldXattrs != 0 {
		diffXattrs(p, w.Xattrs, g.Xattrs, add)
	}
	if fields&FieldContent != 0 && w.Kind == tree.Regular && w.SHA256 != g.SHA256 {
		add(p, "content", "want sha256 %.16s, got %.16s", w.SHA256, g.SHA256)
	}
	if fields&FieldData != 0 && w.Kind == tree.Regular && w.Data != nil && g.Data != nil &&
		fmtSegs(w.Data) != fmtSegs(g.Data) {
		add(p, "data-ranges", "want %s, got %s", fmtSegs(w.Data), fmtSegs(g.Data))
	}
}

// diffTimes applies the time policy to atime, ctime and crtime.
func diffTimes(w, g *Entry, fields Field, o CompareOptions, got *Snapshot, add func(p, f, format string, a ...any)) {
	type tf struct {
		f    Field
		name string
		w, g Time
	}
	for _, x := range []tf{{FieldAtime, "atime", w.Atime, g.Atime}, {FieldCtime, "ctime", w.Ctime, g.Ctime},
		{FieldCrtime, "crtime", w.Crtime, g.Crtime}} {
		if got.Known&x.f == 0 || o.Ignore&x.f != 0 {
			continue
		}
		var ref Time
		switch o.Times {
		case TimesIgnore:
			continue
		case TimesExact:
			if fields&x.f == 0 {
				continue
			}
			ref = x.w
		case TimesEqualMtime:
			ref = g.Mtime
		case TimesEqualEpoch:
			ref = Time{Sec: o.Epoch}
		}
		if x.g != ref {
			add(w.Path, x.name, "want %s, got %s", fmtTime(ref), fmtTime(x.g))
		}
	}
}

func diffXattrs(p string, w, g map[string][]byte, add func(p, f, format string, a ...any)) {
	names := map[string]bool{}
	for n := range w {
		names[n] = true
	}
	for n := range g {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		wv, wok := w[n]
		gv, gok := g[n]
		switch {
		case !gok:
			add(p, "xattr "+n, "want %s, got nothing", fmtValue(wv))
		case !wok:
			add(p, "xattr "+n, "want nothing, got %s", fmtValue(gv))
		case !bytes.Equal(wv, gv):
			add(p, "xattr "+n, "want %s, got %s", fmtValue(wv), fmtValue(gv))
		}
	}
}

func fmtTime(t Time) string { return fmt.Sprintf("%d.%09d", t.Sec, t.Nsec) }

func fmtSegs(s []tree.Segment) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d+%d", x.Off, x.Len)
	}
	b.WriteByte(']')
	return b.String()
}

const maxShown = 64

// fmtValue shows an xattr value quoted when printable, else as hex.
func fmtValue(v []byte) string {
	s := v
	if len(s) > maxShown {
		s = s[:maxShown]
	}
	more := ""
	if len(v) > maxShown {
		more = fmt.Sprintf("...(%d bytes)", len(v))
	}
	printable := true
	for _, r := range string(s) {
		if !unicode.IsPrint(r) {
			printable = false
			break
		}
	}
	if printable {
		return strconv.Quote(string(s)) + more
	}
	return fmt.Sprintf("0x%x", s) + more
}

func clip(s string) string {
	if len(s) > maxShown {
		return s[:maxShown] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}
