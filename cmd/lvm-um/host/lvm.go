package host

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// LVM runs lvm2 and dmsetup through a Runner. Every lvm2 command goes
// through the single `lvm` binary (`lvm lvs ...`), which is all a minimal
// device (busybox + lvm2) needs to have.
type LVM struct {
	R Runner
}

// VG is what the module needs to know about a volume group.
type VG struct {
	Name        string
	ExtentSize  int64 // bytes
	FreeExtents int64
}

// Free is the free space in whole extents, in bytes.
func (v VG) Free() int64 { return v.ExtentSize * v.FreeExtents }

// LV is one logical volume as lvs reports it.
type LV struct {
	VG, Name string
	Path     string // /dev/VG/LV, the node the module opens
	DMPath   string // /dev/mapper/VG-LV; its base name is the dm name
	Size     int64  // bytes
	Attr     string // lv_attr, e.g. "swi-a-s---"
	Origin   string // for a snapshot, its origin's name
	Tags     []string
	Major    int64 // kernel device number, -1 when inactive
	Minor    int64
}

// attr returns the i-th lv_attr character (0-based), or 0.
func (lv LV) attr(i int) byte {
	if i < len(lv.Attr) {
		return lv.Attr[i]
	}
	return 0
}

// IsSnapshot: an old-style (dm-snapshot) snapshot, merging or not.
func (lv LV) IsSnapshot() bool { return lv.attr(0) == 's' || lv.attr(0) == 'S' }

// MergePending: a snapshot whose merge into its origin has been asked
// for (lvconvert --merge) and has not finished.
func (lv LV) MergePending() bool { return lv.attr(0) == 'S' }

// HasMergingSnapshot: an origin with a merge pending or running.
func (lv LV) HasMergingSnapshot() bool { return lv.attr(0) == 'O' }

// IsOrigin: an origin of at least one snapshot.
func (lv LV) IsOrigin() bool { return lv.attr(0) == 'o' || lv.attr(0) == 'O' }

// Invalid: the kernel invalidated the snapshot (its store overflowed) or
// a merge of it failed.
func (lv LV) Invalid() bool {
	switch lv.attr(4) {
	case 'I', 'S', 'm', 'M':
		return true
	}
	return false
}

// Open: some process or mount holds the device open.
func (lv LV) Open() bool { return lv.attr(5) == 'o' }

// HasTag reports whether the LV carries tag.
func (lv LV) HasTag(tag string) bool {
	for _, t := range lv.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// DMName is the device-mapper name of the LV ("VG-LV", dashes doubled).
func (lv LV) DMName() string {
	if i := strings.LastIndexByte(lv.DMPath, '/'); i >= 0 {
		return lv.DMPath[i+1:]
	}
	return lv.DMPath
}

// reportArgs are the options every lvs/vgs call takes: no headings,
// sizes in plain bytes, '|' between fields (LVM names never hold one).
var reportArgs = []string{"--noheadings", "--nosuffix", "--units", "b", "--separator", "|"}

// VG reports volume group name.
func (l LVM) VG(ctx context.Context, name string) (VG, error) {
	args := append([]string{"vgs"}, reportArgs...)
	args = append(args, "-o", "vg_name,vg_extent_size,vg_free_count", name)
	out, err := l.R.Run(ctx, "lvm", args...)
	if err != nil {
		return VG{}, err
	}
	lines := nonEmptyLines(string(out))
	if len(lines) != 1 {
		return VG{}, fmt.Errorf("lvm vgs %s: want one line, got %d", name, len(lines))
	}
	f := strings.Split(lines[0], "|")
	if len(f) != 3 || f[0] != name {
		return VG{}, fmt.Errorf("lvm vgs %s: cannot read %q", name, lines[0])
	}
	ext, err1 := strconv.ParseInt(f[1], 10, 64)
	free, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || ext <= 0 || free < 0 || free > (1<<62)/ext {
		return VG{}, fmt.Errorf("lvm vgs %s: cannot read extent size and free extents from %q", name, lines[0])
	}
	return VG{Name: name, ExtentSize: ext, FreeExtents: free}, nil
}

var lvFields = "vg_name,lv_name,lv_path,lv_dm_path,lv_size,lv_attr,origin,lv_tags,lv_kernel_major,lv_kernel_minor"

// LVs lists the (visible) logical volumes of volume group vg.
func (l LVM) LVs(ctx context.Context, vg string) ([]LV, error) {
	args := append([]string{"lvs"}, reportArgs...)
	args = append(args, "-o", lvFields, vg)
	out, err := l.R.Run(ctx, "lvm", args...)
	if err != nil {
		return nil, err
	}
	var lvs []LV
	for _, line := range nonEmptyLines(string(out)) {
		lv, err := parseLV(line)
		if err != nil {
			return nil, fmt.Errorf("lvm lvs %s: %w", vg, err)
		}
		lvs = append(lvs, lv)
	}
	return lvs, nil
}

// FindLV returns the LV named name in vg; ok is false when there is none.
func (l LVM) FindLV(ctx context.Context, vg, name string) (lv LV, ok bool, err error) {
	lvs, err := l.LVs(ctx, vg)
	if err != nil {
		return LV{}, false, err
	}
	for _, lv := range lvs {
		if lv.Name == name {
			return lv, true, nil
		}
	}
	return LV{}, false, nil
}

func parseLV(line string) (LV, error) {
	f := strings.Split(line, "|")
	if len(f) != 10 {
		return LV{}, fmt.Errorf("cannot read %q: want 10 fields", line)
	}
	size, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil || size < 0 {
		return LV{}, fmt.Errorf("cannot read the size in %q", line)
	}
	major, err1 := strconv.ParseInt(f[8], 10, 64)
	minor, err2 := strconv.ParseInt(f[9], 10, 64)
	if err1 != nil || err2 != nil {
		return LV{}, fmt.Errorf("cannot read the device number in %q", line)
	}
	lv := LV{VG: f[0], Name: f[1], Path: f[2], DMPath: f[3], Size: size, Attr: f[5], Origin: f[6], Major: major, Minor: minor}
	if f[7] != "" {
		lv.Tags = strings.Split(f[7], ",")
	}
	return lv, nil
}

// CreateSnapshot creates snapshot name of vg/origin with the given
// number of extents for its store, chunk size (bytes, a power of two
// from 4 KiB to 512 KiB) and tags.
func (l LVM) CreateSnapshot(ctx context.Context, vg, origin, name string, extents, chunk int64, tags []string) error {
	args := []string{"lvcreate", "--snapshot", "--extents", strconv.FormatInt(extents, 10),
		"--chunksize", strconv.FormatInt(chunk/1024, 10) + "k", "--name", name}
	for _, t := range tags {
		args = append(args, "--addtag", t)
	}
	_, err := l.R.Run(ctx, "lvm", append(args, vg+"/"+origin)...)
	return err
}

// AddTag adds tag to vg/name.
func (l LVM) AddTag(ctx context.Context, vg, name, tag string) error {
	_, err := l.R.Run(ctx, "lvm", "lvchange", "--addtag", tag, vg+"/"+name)
	return err
}

// DelTag removes tag from vg/name.
func (l LVM) DelTag(ctx context.Context, vg, name, tag string) error {
	_, err := l.R.Run(ctx, "lvm", "lvchange", "--deltag", tag, vg+"/"+name)
	return err
}

// Remove removes vg/name without asking.
func (l LVM) Remove(ctx context.Context, vg, name string) error {
	_, err := l.R.Run(ctx, "lvm", "lvremove", "--yes", vg+"/"+name)
	return err
}

// Merge asks lvm to merge snapshot vg/name into its origin. lvm starts at
// once when neither is open and otherwise at the origin's next
// activation; what it printed says which.
func (l LVM) Merge(ctx context.Context, vg, name string) (string, error) {
	out, err := l.R.Run(ctx, "lvm", "lvconvert", "--merge", vg+"/"+name)
	return strings.TrimSpace(string(out)), err
}

// SnapStatus is a dm-snapshot's `dmsetup status`.
type SnapStatus struct {
	Invalid          bool  // "Invalid": the store overflowed
	MergeFailed      bool  // "Merge failed"
	SectorsAllocated int64 // exact store use, in 512-byte sectors
	SectorsTotal     int64
	MetadataSectors  int64
}

// AllocatedBytes is the store use in bytes, the figure the COW model
// predicts.
func (s SnapStatus) AllocatedBytes() int64 { return s.SectorsAllocated * 512 }

// SnapshotStatus runs `dmsetup status` on the snapshot with dm name dm.
func (l LVM) SnapshotStatus(ctx context.Context, dm string) (SnapStatus, error) {
	out, err := l.R.Run(ctx, "dmsetup", "status", dm)
	if err != nil {
		return SnapStatus{}, err
	}
	return ParseSnapStatus(string(out))
}

// ParseSnapStatus reads one `dmsetup status` line of a snapshot or
// snapshot-merge target: "<start> <len> snapshot <alloc>/<total> <meta>",
// or "Invalid", "Merge failed", "Overflow" in place of the figures.
func ParseSnapStatus(s string) (SnapStatus, error) {
	lines := nonEmptyLines(s)
	if len(lines) != 1 {
		return SnapStatus{}, fmt.Errorf("dmsetup status: want one line, got %q", s)
	}
	f := strings.Fields(lines[0])
	if len(f) < 4 || (f[2] != "snapshot" && f[2] != "snapshot-merge") {
		return SnapStatus{}, fmt.Errorf("dmsetup status: not a snapshot: %q", lines[0])
	}
	switch rest := strings.Join(f[3:], " "); {
	case strings.HasPrefix(rest, "Invalid"), strings.HasPrefix(rest, "Overflow"):
		return SnapStatus{Invalid: true}, nil
	case strings.HasPrefix(rest, "Merge failed"):
		return SnapStatus{MergeFailed: true}, nil
	}
	if len(f) < 5 {
		return SnapStatus{}, fmt.Errorf("dmsetup status: cannot read %q", lines[0])
	}
	alloc, total, ok := strings.Cut(f[3], "/")
	var st SnapStatus
	var err1, err2, err3 error
	st.SectorsAllocated, err1 = strconv.ParseInt(alloc, 10, 64)
	st.SectorsTotal, err2 = strconv.ParseInt(total, 10, 64)
	st.MetadataSectors, err3 = strconv.ParseInt(f[4], 10, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil || st.SectorsAllocated < 0 ||
		st.SectorsAllocated > st.SectorsTotal || st.MetadataSectors > st.SectorsAllocated || st.MetadataSectors < 0 {
		return SnapStatus{}, fmt.Errorf("dmsetup status: cannot read %q", lines[0])
	}
	return st, nil
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
