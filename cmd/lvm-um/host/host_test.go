package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestExecRun(t *testing.T) {
	var trace strings.Builder
	e := Exec{Trace: &trace}
	out, err := e.Run(context.Background(), "sh", "-c", `echo "$LC_ALL"; echo out`)
	if err != nil || string(out) != "C\nout\n" {
		t.Fatalf("Run = %q, %v", out, err)
	}
	if !strings.Contains(trace.String(), `lvm-um: run: sh -c "echo`) {
		t.Errorf("trace %q", trace.String())
	}
	_, err = e.Run(context.Background(), "sh", "-c", "echo first >&2; echo last >&2; echo >&2; exit 3")
	var ce *CmdError
	if !errors.As(err, &ce) || ce.ExitCode() != 3 || ce.Stderr != "last" {
		t.Fatalf("failing command: %#v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "sh -c ") || !strings.HasSuffix(msg, "exit status 3: last") {
		t.Errorf("message %q", msg)
	}
	_, err = e.Run(context.Background(), "/nonexistent/lvm", "vgs")
	if !errors.As(err, &ce) || ce.ExitCode() != -1 {
		t.Errorf("missing program: %v", err)
	}
}

func TestExecBoundsOutput(t *testing.T) {
	out, err := Exec{}.Run(context.Background(), "sh", "-c", "yes | head -c 3000000")
	if err != nil || len(out) != maxOutput {
		t.Errorf("got %d bytes, %v; want %d", len(out), err, maxOutput)
	}
}

// cannedRunner answers each command with a canned output and records it.
type cannedRunner struct {
	out   map[string]string // first word after the program -> stdout
	fail  map[string]error
	calls [][]string
}

func (c *cannedRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	c.calls = append(c.calls, append([]string{name}, args...))
	key := name
	if len(args) > 0 && name != "fw_setenv" {
		key = args[0]
	}
	if err := c.fail[key]; err != nil {
		return nil, err
	}
	return []byte(c.out[key]), nil
}

func TestVGAndLVs(t *testing.T) {
	r := &cannedRunner{out: map[string]string{
		"vgs": "  devicevg|4194304|8\n",
		"lvs": "  devicevg|rootfs1|/dev/devicevg/rootfs1|/dev/mapper/devicevg-rootfs1|473956352|owi-aoS---|||253|0\n" +
			"  devicevg|rootfs2|/dev/devicevg/rootfs2|/dev/mapper/devicevg-rootfs2|473956352|swi-a-s---|rootfs1|lvm_um,lvm_um_cow_12288|253|3\n" +
			"  devicevg|data|/dev/devicevg/data|/dev/mapper/devicevg-data|419430400|-wi-ao----|||253|1\n" +
			"  devicevg|old-snap|/dev/devicevg/old-snap|/dev/mapper/devicevg-old--snap|4194304|Swi-Io----|rootfs1||-1|-1\n",
	}}
	l := LVM{R: r}
	vg, err := l.VG(context.Background(), "devicevg")
	if err != nil || vg.Free() != 8*4194304 {
		t.Fatalf("VG = %+v, %v", vg, err)
	}
	lvs, err := l.LVs(context.Background(), "devicevg")
	if err != nil || len(lvs) != 4 {
		t.Fatalf("LVs = %+v, %v", lvs, err)
	}
	o, s, d, x := lvs[0], lvs[1], lvs[2], lvs[3]
	if !o.IsOrigin() || o.IsSnapshot() || !o.Open() || o.HasMergingSnapshot() {
		t.Errorf("origin %+v", o)
	}
	if !s.IsSnapshot() || s.MergePending() || s.Invalid() || s.Open() || s.Origin != "rootfs1" ||
		!s.HasTag("lvm_um") || s.DMName() != "devicevg-rootfs2" || s.Major != 253 || s.Minor != 3 {
		t.Errorf("snapshot %+v", s)
	}
	if d.IsOrigin() || d.IsSnapshot() || len(d.Tags) != 0 {
		t.Errorf("data %+v", d)
	}
	if !x.MergePending() || !x.Invalid() || !x.Open() || x.DMName() != "devicevg-old--snap" || x.Major != -1 {
		t.Errorf("merging invalid snapshot %+v", x)
	}
	want := []string{"lvm", "lvs", "--noheadings", "--nosuffix", "--units", "b", "--separator", "|", "-o", lvFields, "devicevg"}
	if !reflect.DeepEqual(r.calls[1], want) {
		t.Errorf("lvs argv %q", r.calls[1])
	}
	lv, ok, err := l.FindLV(context.Background(), "devicevg", "data")
	if err != nil || !ok || lv.Name != "data" {
		t.Errorf("FindLV = %+v %v %v", lv, ok, err)
	}
	if _, ok, _ := l.FindLV(context.Background(), "devicevg", "nope"); ok {
		t.Error("FindLV found a missing LV")
	}
}

func TestReportGarbage(t *testing.T) {
	for _, out := range []string{"", "a|b\n", "  devicevg|x|8\n", "  devicevg|0|8\n", "  other|4194304|8\n", "devicevg|4194304|8\ndevicevg|4194304|8\n"} {
		l := LVM{R: &cannedRunner{out: map[string]string{"vgs": out}}}
		if vg, err := l.VG(context.Background(), "devicevg"); err == nil {
			t.Errorf("vgs %q accepted: %+v", out, vg)
		}
	}
	for _, out := range []string{"a|b|c\n", "  vg|lv|p|d|big|attr|o|t|253|0\n", "  vg|lv|p|d|1|attr|o|t|x|0\n"} {
		l := LVM{R: &cannedRunner{out: map[string]string{"lvs": out}}}
		if lvs, err := l.LVs(context.Background(), "vg"); err == nil {
			t.Errorf("lvs %q accepted: %+v", out, lvs)
		}
	}
}

func TestParseSnapStatus(t *testing.T) {
	good := map[string]SnapStatus{
		"0 925696 snapshot 174776/262144 696\n": {SectorsAllocated: 174776, SectorsTotal: 262144, MetadataSectors: 696},
		"0 925696 snapshot-merge 16/8192 16":    {SectorsAllocated: 16, SectorsTotal: 8192, MetadataSectors: 16},
		"0 925696 snapshot Invalid":             {Invalid: true},
		"0 925696 snapshot Invalid by EIO":      {Invalid: true},
		"0 925696 snapshot Overflow":            {Invalid: true},
		"0 925696 snapshot Merge failed":        {MergeFailed: true},
	}
	for in, want := range good {
		got, err := ParseSnapStatus(in)
		if err != nil || got != want {
			t.Errorf("ParseSnapStatus(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if got := good["0 925696 snapshot 174776/262144 696\n"].AllocatedBytes(); got != 174776*512 {
		t.Errorf("AllocatedBytes = %d", got)
	}
	for _, in := range []string{"", "0 100 linear", "0 100 snapshot", "0 100 snapshot 5/4 1", "0 100 snapshot 4/8 5",
		"0 100 snapshot x/8 1", "0 100 snapshot 4/8", "0 100 snapshot 4 8 1", "a\nb\n"} {
		if got, err := ParseSnapStatus(in); err == nil {
			t.Errorf("ParseSnapStatus(%q) = %+v, want an error", in, got)
		}
	}
}

func TestCommandsArgv(t *testing.T) {
	r := &cannedRunner{out: map[string]string{"lvconvert": "  Merging of snapshot devicevg/rootfs2 will occur on next activation of devicevg/rootfs1.\n"}}
	l := LVM{R: r}
	ctx := context.Background()
	if err := l.CreateSnapshot(ctx, "devicevg", "rootfs1", "rootfs2", 3, 4096, []string{"lvm_um", "lvm_um_cow_8192"}); err != nil {
		t.Fatal(err)
	}
	_ = l.AddTag(ctx, "devicevg", "rootfs2", "lvm_um_verified")
	_ = l.DelTag(ctx, "devicevg", "rootfs2", "lvm_um_installed")
	_ = l.Remove(ctx, "devicevg", "rootfs2")
	out, _ := l.Merge(ctx, "devicevg", "rootfs2")
	_, _ = l.SnapshotStatus(ctx, "devicevg-rootfs2")
	want := [][]string{
		{"lvm", "lvcreate", "--snapshot", "--extents", "3", "--chunksize", "4k", "--name", "rootfs2", "--addtag", "lvm_um", "--addtag", "lvm_um_cow_8192", "devicevg/rootfs1"},
		{"lvm", "lvchange", "--addtag", "lvm_um_verified", "devicevg/rootfs2"},
		{"lvm", "lvchange", "--deltag", "lvm_um_installed", "devicevg/rootfs2"},
		{"lvm", "lvremove", "--yes", "devicevg/rootfs2"},
		{"lvm", "lvconvert", "--merge", "devicevg/rootfs2"},
		{"dmsetup", "status", "devicevg-rootfs2"},
	}
	if !reflect.DeepEqual(r.calls, want) {
		t.Errorf("argv:\n%q\nwant\n%q", r.calls, want)
	}
	if !strings.HasPrefix(out, "Merging of snapshot") {
		t.Errorf("merge output %q", out)
	}
}

func TestMountDev(t *testing.T) {
	dir := t.TempDir()
	a, err := MountDev(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := MountDev(filepath.Join(dir, "f"))
	if err != nil || a != b {
		t.Errorf("same filesystem, devices %v and %v (%v)", a, b, err)
	}
	if _, err := MountDev(filepath.Join(dir, "missing")); err == nil {
		t.Error("MountDev of a missing path succeeded")
	}
}
