package main

// The fake device: the test binary, run under the names lvm, dmsetup and
// fw_setenv from a directory put first on PATH, plays LVM over files. Its
// state is a JSON file ($FAKE_LVM_STATE); every call is appended to a log
// ($FAKE_LVM_LOG) so tests can check exactly what the module ran. A
// snapshot is a file holding the origin's bytes at creation; its COW use
// is computed from the chunks in which it differs from the origin (the
// module never writes the origin), with the formula of cow-model.md, and
// a snapshot whose use exceeds its store is Invalid, as in the kernel.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

type fakeLV struct {
	Name    string
	Path    string
	Size    int64
	Origin  string   `json:",omitempty"`
	Tags    []string `json:",omitempty"`
	Extents int64    `json:",omitempty"` // the snapshot store
	Chunk   int64    `json:",omitempty"`
	Open    bool     `json:",omitempty"`
	Merge   bool     `json:",omitempty"` // merge pending
	Invalid bool     `json:",omitempty"` // forced invalid
	Minor   int64
}

type fakeState struct {
	VG         string
	ExtentSize int64
	Extents    int64 // free extents before any snapshot
	LVs        []*fakeLV
	Boot       map[string]string
	Fail       map[string]string // subcommand -> stderr line: fail it with exit 5
	NextMinor  int64
	// BreakSnapshot makes the next snapshot unwritable (its node a
	// directory) and invalid, like one that overflowed at its first write.
	BreakSnapshot bool `json:",omitempty"`
}

func (s *fakeState) lv(name string) *fakeLV {
	for _, lv := range s.LVs {
		if lv.Name == name {
			return lv
		}
	}
	return nil
}

func (s *fakeState) freeExtents() int64 {
	free := s.Extents
	for _, lv := range s.LVs {
		free -= lv.Extents
	}
	return free
}

func loadFake(path string) (*fakeState, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s fakeState
	return &s, json.Unmarshal(b, &s)
}

func (s *fakeState) save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// fakeMain runs the fake program named name and returns its exit status.
func fakeMain(name string, args []string, stdout, stderr io.Writer) int {
	statePath := os.Getenv("FAKE_LVM_STATE")
	if logPath := os.Getenv("FAKE_LVM_LOG"); logPath != "" {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, strings.Join(append([]string{name}, args...), " "))
			f.Close()
		}
	}
	s, err := loadFake(statePath)
	if err != nil {
		fmt.Fprintln(stderr, "fake:", err)
		return 99
	}
	code := 0
	fail := func(format string, a ...any) {
		fmt.Fprintf(stderr, "  "+format+"\n", a...)
		code = 5
	}
	sub := name
	if (name == "lvm" || name == "dmsetup") && len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	if msg, ok := s.Fail[sub]; ok {
		fail("%s", msg)
		return code
	}
	switch sub {
	case "vgs":
		vg := args[len(args)-1]
		if vg != s.VG {
			fail("Volume group %q not found", vg)
			break
		}
		fmt.Fprintf(stdout, "  %s|%d|%d\n", s.VG, s.ExtentSize, s.freeExtents())
	case "lvs":
		vg := args[len(args)-1]
		if vg != s.VG {
			fail("Volume group %q not found", vg)
			break
		}
		for _, lv := range s.LVs {
			fmt.Fprintf(stdout, "  %s|%s|%s|/dev/mapper/%s|%d|%s|%s|%s|253|%d\n", s.VG, lv.Name, lv.Path,
				dmName(s.VG, lv.Name), lv.Size, s.attr(lv), lv.Origin, strings.Join(lv.Tags, ","), lv.Minor)
		}
	case "lvcreate":
		fakeCreate(s, args, fail)
	case "lvchange":
		lv := s.lv(strings.TrimPrefix(args[2], s.VG+"/"))
		if lv == nil {
			fail("Failed to find logical volume %q", args[2])
			break
		}
		switch args[0] {
		case "--addtag":
			if !slices.Contains(lv.Tags, args[1]) {
				lv.Tags = append(lv.Tags, args[1])
			}
		case "--deltag":
			lv.Tags = slices.DeleteFunc(lv.Tags, func(t string) bool { return t == args[1] })
		default:
			fail("fake lvchange: %v", args)
		}
	case "lvremove":
		name := strings.TrimPrefix(args[len(args)-1], s.VG+"/")
		lv := s.lv(name)
		switch {
		case lv == nil:
			fail("Failed to find logical volume \"%s/%s\"", s.VG, name)
		case lv.Open:
			fail("Logical volume %s/%s in use.", s.VG, name)
		default:
			os.RemoveAll(lv.Path)
			s.LVs = slices.DeleteFunc(s.LVs, func(l *fakeLV) bool { return l == lv })
			fmt.Fprintf(stdout, "  Logical volume %q successfully removed.\n", name)
		}
	case "lvconvert":
		name := strings.TrimPrefix(args[len(args)-1], s.VG+"/")
		lv := s.lv(name)
		switch {
		case lv == nil || lv.Origin == "":
			fail("%s/%s is not a mergeable logical volume.", s.VG, name)
		case s.invalid(lv):
			fail("Unable to merge invalidated snapshot LV %q.", name)
		case lv.Open || s.lv(lv.Origin).Open:
			lv.Merge = true
			fmt.Fprintf(stdout, "  Delaying merge since snapshot is open.\n  Merging of snapshot %s/%s will occur on next activation of %s/%s.\n", s.VG, name, s.VG, lv.Origin)
		default:
			if err := s.merge(lv); err != nil {
				fail("%v", err)
				break
			}
			fmt.Fprintf(stdout, "  Merging of volume %s/%s started.\n", s.VG, name)
		}
	case "status":
		var lv *fakeLV
		for _, l := range s.LVs {
			if dmName(s.VG, l.Name) == args[0] {
				lv = l
			}
		}
		if lv == nil || lv.Origin == "" {
			fail("Device %s not found", args[0])
			break
		}
		fmt.Fprintln(stdout, s.status(lv))
	case "fw_setenv":
		if s.Boot == nil {
			s.Boot = map[string]string{}
		}
		for i := 0; i+1 < len(args); i += 2 {
			s.Boot[args[i]] = args[i+1]
		}
	default:
		fail("fake: unknown command %s %v", sub, args)
	}
	if err := s.save(statePath); err != nil {
		fmt.Fprintln(stderr, "fake:", err)
		return 99
	}
	return code
}

func dmName(vg, lv string) string {
	return strings.ReplaceAll(vg, "-", "--") + "-" + strings.ReplaceAll(lv, "-", "--")
}

func (s *fakeState) attr(lv *fakeLV) string {
	typ := byte('-')
	if lv.Origin != "" {
		typ = 's'
		if lv.Merge {
			typ = 'S'
		}
	} else {
		for _, o := range s.LVs {
			if o.Origin == lv.Name {
				if o.Merge {
					typ = 'O'
				} else if typ == '-' {
					typ = 'o'
				}
			}
		}
	}
	state, open := byte('a'), byte('-')
	if lv.Origin != "" && s.invalid(lv) {
		state = 'I'
	}
	if lv.Open {
		open = 'o'
	}
	return string([]byte{typ, 'w', 'i', '-', state, open, '-', '-', '-', '-'})
}

func fakeCreate(s *fakeState, args []string, fail func(string, ...any)) {
	lv := &fakeLV{}
	var origin string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--snapshot":
		case "--extents":
			i++
			lv.Extents, _ = strconv.ParseInt(args[i], 10, 64)
		case "--chunksize":
			i++
			k, _ := strconv.ParseInt(strings.TrimSuffix(args[i], "k"), 10, 64)
			lv.Chunk = k * 1024
		case "--name":
			i++
			lv.Name = args[i]
		case "--addtag":
			i++
			lv.Tags = append(lv.Tags, args[i])
		default:
			origin = strings.TrimPrefix(args[i], s.VG+"/")
		}
	}
	o := s.lv(origin)
	switch {
	case o == nil || o.Origin != "":
		fail("Failed to find origin %q", origin)
		return
	case s.lv(lv.Name) != nil:
		fail("Logical Volume %q already exists in volume group %q", lv.Name, s.VG)
		return
	case lv.Extents > s.freeExtents() || lv.Extents <= 0:
		fail("Volume group %q has insufficient free space (%d extents): %d required.", s.VG, s.freeExtents(), lv.Extents)
		return
	}
	data, err := os.ReadFile(o.Path)
	if err != nil {
		fail("%v", err)
		return
	}
	lv.Path = filepath.Join(filepath.Dir(o.Path), lv.Name)
	if s.BreakSnapshot {
		s.BreakSnapshot, lv.Invalid = false, true
		if err := os.Mkdir(lv.Path, 0o700); err != nil {
			fail("%v", err)
			return
		}
	} else if err := os.WriteFile(lv.Path, data, 0o600); err != nil {
		fail("%v", err)
		return
	}
	lv.Origin, lv.Size = origin, o.Size
	s.NextMinor++
	lv.Minor = s.NextMinor
	s.LVs = append(s.LVs, lv)
}

// used is the snapshot's store use by cow-model.md's formula, counting
// the chunks in which it differs from its origin.
func (s *fakeState) used(lv *fakeLV) (bytesUsed, meta int64) {
	a, errA := os.ReadFile(lv.Path)
	b, errB := os.ReadFile(s.lv(lv.Origin).Path)
	if errA != nil || errB != nil {
		return -1, -1
	}
	var n int64
	for off := 0; off < len(a); off += int(lv.Chunk) {
		end := min(off+int(lv.Chunk), len(a))
		if !bytes.Equal(a[off:end], b[off:end]) {
			n++
		}
	}
	m := blockmap.Model{WriteUnit: lv.Chunk, Chunk: lv.Chunk, ImageSize: lv.Size}
	e := m.ExceptionsPerChunk()
	return m.COWBytes(n), (2 + n/e) * lv.Chunk
}

func (s *fakeState) invalid(lv *fakeLV) bool {
	if lv.Invalid {
		return true
	}
	u, _ := s.used(lv)
	return u > lv.Extents*s.ExtentSize
}

func (s *fakeState) status(lv *fakeLV) string {
	target := "snapshot"
	if s.invalid(lv) {
		return fmt.Sprintf("0 %d %s Invalid", lv.Size/512, target)
	}
	u, meta := s.used(lv)
	return fmt.Sprintf("0 %d %s %d/%d %d", lv.Size/512, target, u/512, lv.Extents*s.ExtentSize/512, meta/512)
}

// merge copies the snapshot's bytes into its origin and drops it.
func (s *fakeState) merge(lv *fakeLV) error {
	data, err := os.ReadFile(lv.Path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(s.lv(lv.Origin).Path, data, 0o600); err != nil {
		return err
	}
	os.Remove(lv.Path)
	s.LVs = slices.DeleteFunc(s.LVs, func(l *fakeLV) bool { return l == lv })
	return nil
}

// activate is a reboot of the fake device: every pending merge of a
// valid snapshot happens (the kernel refuses an invalid one: the origin
// keeps its bytes and lvm keeps the snapshot), nothing stays open.
func (s *fakeState) activate() error {
	for _, lv := range slices.Clone(s.LVs) {
		lv.Open = false
		if lv.Merge && !s.invalid(lv) {
			if err := s.merge(lv); err != nil {
				return err
			}
		}
	}
	return nil
}

// fakeNames are the programs the test binary plays.
var fakeNames = []string{"lvm", "dmsetup", "fw_setenv"}

func TestMain(m *testing.M) {
	if name := filepath.Base(os.Args[0]); slices.Contains(fakeNames, name) {
		os.Exit(fakeMain(name, os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
