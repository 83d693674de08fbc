package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/lvm-um-gen/lvm-um-gen/generator/generatortest"
)

const imageSize = 4 * generator.MiB

type env struct {
	dir, out, base, rootfs string
	fake                   *generatortest.Fake
	vars                   map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), vars: map[string]string{}}
	e.out = filepath.Join(e.dir, "out")
	e.base = filepath.Join(e.dir, "base.ext4")
	e.rootfs = filepath.Join(e.dir, "rootfs")
	for _, d := range []string{e.out, e.rootfs, filepath.Join(e.dir, "tmp")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	generatortest.WriteBase(t, e.base, imageSize)
	t.Setenv("TMPDIR", filepath.Join(e.dir, "tmp"))
	// Unit 0 changes in the superblock's block, unit 3 in a block charged
	// to a path.
	e.fake = &generatortest.Fake{
		Offsets: []int64{10, 3*generator.MiB + 1},
		Files:   generator.FileCounts{Added: 1, Changed: 2, Unchanged: 9},
		Touched: []written.Path{{Path: "usr/bin/big", Blocks: []uint64{768}}},
	}
	return e
}

// run runs the CLI in-process and returns the exit code, stdout and stderr.
func (e *env) run(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{
		stdout:     &stdout,
		stderr:     &stderr,
		newBuilder: func() generator.Builder { return e.fake },
		getenv:     func(k string) string { return e.vars[k] },
	}
	code := a.run(ctx, args)
	return code, stdout.String(), stderr.String()
}

func (e *env) generateArgs(extra ...string) []string {
	return append([]string{"generate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "32MiB",
		"-n", "release-2", "-t", "rpi4", "-o", filepath.Join(e.out, "a.mender")}, extra...)
}

func (e *env) outputs(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, d := range []string{e.out, filepath.Join(e.dir, "tmp")} {
		es, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range es {
			names = append(names, x.Name())
		}
	}
	slices.Sort(names)
	return names
}

func oneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "lvm-um-gen: ") || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("stderr is not one lvm-um-gen: line: %q", stderr)
	}
}

func TestGenerate(t *testing.T) {
	e := newEnv(t)
	report := filepath.Join(e.out, "r.json")
	code, stdout, stderr := e.run(t, context.Background(), e.generateArgs("--report", report, "--image-out", filepath.Join(e.out, "new.ext4"), "--map", filepath.Join(e.out, "m.svg"))...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	// The default write unit is the chunk: 2 of 1024 units of 4 KiB.
	for _, s := range []string{"1 added, 2 changed, 0 removed, 9 unchanged", "2 of 1024 changed (4.0 KiB each)", "2 changed (4.0 KiB each)",
		"reserve:       8388608 (8.0 MiB)", "headroom", "a.mender", "(lvm-um, payload 4.0 MiB"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}
	if got := e.outputs(t); !slices.Equal(got, []string{"a.mender", "m.svg", "new.ext4", "r.json"}) {
		t.Fatalf("outputs %q", got)
	}
	var r generator.Report
	data, _ := os.ReadFile(report)
	if err := json.Unmarshal(data, &r); err != nil || r.Fits == nil || !*r.Fits || r.UnitsChanged != 2 || r.SnapshotBytes != 32*generator.MiB ||
		r.WriteUnitBytes != 4096 {
		t.Fatalf("report %s (%v)", data, err)
	}
	// --write-unit 1MiB, for devices that run the 2021 prototype: each
	// changed unit costs 256 chunks.
	code, stdout, stderr = e.run(t, context.Background(), "generate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "32MiB",
		"-n", "release-2", "-t", "rpi4", "-o", filepath.Join(e.out, "b.mender"), "--write-unit", "1MiB")
	if code != 0 || stderr != "" || !strings.Contains(stdout, "2 of 4 changed (1.0 MiB each)") || !strings.Contains(stdout, "512 changed") {
		t.Fatalf("--write-unit 1MiB: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestGenerateDelta: --delta writes an lvm-um-delta artifact and says so.
func TestGenerateDelta(t *testing.T) {
	e := newEnv(t)
	report := filepath.Join(e.out, "r.json")
	code, stdout, stderr := e.run(t, context.Background(), e.generateArgs("--delta", "--report", report)...)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, "(lvm-um-delta, payload ") {
		t.Errorf("summary does not name the delta payload:\n%s", stdout)
	}
	var r generator.Report
	data, _ := os.ReadFile(report)
	if err := json.Unmarshal(data, &r); err != nil || r.PayloadType != "lvm-um-delta" || r.PayloadBytes <= 0 || r.PayloadBytes >= imageSize/8 || r.ManifestBytes <= 0 {
		t.Fatalf("report %s (%v)", data, err)
	}
}

func TestGenerateQuietAndDeterministic(t *testing.T) {
	var arts [][]byte
	for i := 0; i < 2; i++ {
		e := newEnv(t)
		e.vars["SOURCE_DATE_EPOCH"] = "1700000000"
		code, stdout, stderr := e.run(t, context.Background(), e.generateArgs("--quiet", "--compression", "zstd_fastest")...)
		if code != 0 || stdout != "" || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		data, err := os.ReadFile(filepath.Join(e.out, "a.mender"))
		if err != nil {
			t.Fatal(err)
		}
		arts = append(arts, data)
	}
	if !bytes.Equal(arts[0], arts[1]) {
		t.Fatal("two runs differ")
	}
}

func TestGenerateRefusal(t *testing.T) {
	e := newEnv(t)
	report := filepath.Join(e.out, "r.json")
	code, stdout, stderr := e.run(t, context.Background(), e.generateArgs("--snapshot-size", "8MiB", "--report", report, "--map", filepath.Join(e.out, "m.svg"))...)
	if code != exitOverflow {
		t.Fatalf("exit %d, want 3; stderr %q", code, stderr)
	}
	if got := e.outputs(t); !slices.Equal(got, []string{"m.svg", "r.json"}) {
		t.Fatalf("outputs %q", got)
	}
	for _, s := range []string{"over by 16.0 KiB", "snapshot has 8.0 MiB", "the lower bound", "metadata  superblock", "path      /usr/bin/big"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
	if !strings.HasPrefix(stderr, "lvm-um-gen: release does not fit") {
		t.Errorf("stderr does not start with the refusal:\n%s", stderr)
	}
	if !strings.Contains(stdout, "headroom:      -") {
		t.Errorf("summary lacks the negative headroom:\n%s", stdout)
	}
	data, _ := os.ReadFile(report)
	if !bytes.Contains(data, []byte(`"fits": false`)) {
		t.Fatalf("report %s", data)
	}
}

func TestGenerateInterrupted(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.fake.Hook = cancel
	code, _, stderr := e.run(t, ctx, e.generateArgs("--image-out", filepath.Join(e.out, "n.ext4"), "--report", filepath.Join(e.out, "r.json"))...)
	if code != exitFailure || !strings.Contains(stderr, "interrupted") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	oneErrorLine(t, stderr)
	if got := e.outputs(t); len(got) != 0 {
		t.Fatalf("left behind %q", got)
	}
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	key := filepath.Join(e.dir, "key.pem")
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"unknown flag":      e.generateArgs("--bogus"),
		"bad size":          e.generateArgs("--snapshot-size", "12XB"),
		"fractional size":   e.generateArgs("--reserve", "1.5MiB"),
		"zero snapshot":     e.generateArgs("--snapshot-size", "0"),
		"missing base file": e.generateArgs("--base", filepath.Join(e.dir, "nope")),
		"missing name":      {"generate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "32MiB", "-t", "x", "-o", filepath.Join(e.out, "a")},
		"missing snapshot":  {"generate", "--base", e.base, "--rootfs", e.rootfs, "-n", "n", "-t", "x", "-o", filepath.Join(e.out, "a")},
		"bad key":           e.generateArgs("-k", key),
		"bad provides":      e.generateArgs("-p", "novalue"),
		"bad compression":   e.generateArgs("--compression", "brotli"),
		"bad chunk":         e.generateArgs("--chunk-size", "1MiB"),
		"map in no dir":     e.generateArgs("--map", filepath.Join(e.dir, "nodir", "m.svg")),
		"positional":        e.generateArgs("extra"),
		"delta no base sum": e.generateArgs("--delta", "--no-base-checksum"),
		"unknown command":   {"frobnicate"},
		"estimate no base":  {"estimate", "--rootfs", e.rootfs},
		"estimate map":      {"estimate", "--base", e.base, "--rootfs", e.rootfs, "--map", filepath.Join(e.dir, "nodir", "m.svg")},
		"diff one arg":      {"diff", e.base},
		"diff missing":      {"diff", e.base, filepath.Join(e.dir, "nope")},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := e.run(t, context.Background(), args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			oneErrorLine(t, stderr)
			if stdout != "" {
				t.Fatalf("stdout %q", stdout)
			}
		})
	}
	e.vars["SOURCE_DATE_EPOCH"] = "yesterday"
	if code, _, stderr := e.run(t, context.Background(), e.generateArgs()...); code != exitUsage || !strings.Contains(stderr, "SOURCE_DATE_EPOCH") {
		t.Fatalf("bad SOURCE_DATE_EPOCH: exit %d %q", code, stderr)
	}
	if got := e.outputs(t); len(got) != 0 {
		t.Fatalf("left behind %q", got)
	}
	if e.fake.Calls != 0 {
		t.Fatal("built despite bad usage")
	}
}

func TestEstimate(t *testing.T) {
	e := newEnv(t)
	code, stdout, stderr := e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"not given", "lower bound:   0 units", "changed blocks by reason", "superblock\n", "top contributors",
		"path      /usr/bin/big", "metadata  superblock"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("estimate lacks %q:\n%s", s, stdout)
		}
	}
	code, stdout, _ = e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "8M", "--json", "--top", "0")
	var r generator.Report
	if code != exitOverflow || json.Unmarshal([]byte(stdout), &r) != nil || r.Fits == nil || *r.Fits || len(r.TopContributors) != 0 {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if r.Schema != 2 || len(r.Reasons) != 2 || r.Reasons[1].Reason != "superblock" || r.LowerBound.Units > r.UnitsChanged {
		t.Errorf("report %+v", r)
	}
	code, stdout, _ = e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs, "--json")
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || len(r.TopContributors) != 2 || r.TopContributors[1].Kind != "metadata" {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	// The map: units coloured by reason, with the legend and totals.
	svg := filepath.Join(e.out, "m.svg")
	if code, _, stderr := e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs, "--map", svg); code != 0 {
		t.Fatalf("--map: exit %d %s", code, stderr)
	}
	data, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"2 of 1024 units changed", "superblock: 1 unit", "directory: 1 unit", "unchanged: 1022 units", "top owner /usr/bin/big"} {
		if !bytes.Contains(data, []byte(s)) {
			t.Errorf("map lacks %q", s)
		}
	}
	// 2 chunks + 2 chunks of metadata and header = 16 KiB fits exactly.
	code, stdout, _ = e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "16KiB", "--reserve", "0", "--write-unit", "4KiB")
	if code != 0 || !strings.Contains(stdout, "headroom:      0 (0 B)") {
		t.Fatalf("exact fit: exit %d\n%s", code, stdout)
	}
	code, _, _ = e.run(t, context.Background(), "estimate", "--base", e.base, "--rootfs", e.rootfs, "--snapshot-size", "16KiB", "--reserve", "1", "--write-unit", "4KiB")
	if code != exitOverflow {
		t.Fatalf("one byte over: exit %d", code)
	}
}

func TestDiff(t *testing.T) {
	e := newEnv(t)
	newImg := filepath.Join(e.dir, "new.ext4")
	data, _ := os.ReadFile(e.base)
	data[5] ^= 1
	data[imageSize-1] ^= 1
	if err := os.WriteFile(newImg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := e.run(t, context.Background(), "diff", e.base, newImg)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "2 of 1024 changed (4.0 KiB each)") || !strings.Contains(stdout, "2 changed (4.0 KiB each)") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = e.run(t, context.Background(), "diff", "--json", "--write-unit", "4KiB", e.base, newImg)
	var r diffReport
	if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil || r.UnitsChanged != 2 || r.ChunksChanged != 2 || r.PredictedCOWBytes != generator.DefaultGeometry.Model(0).COWBytes(2) {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if err := os.WriteFile(newImg, data[:imageSize-4096], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = e.run(t, context.Background(), "diff", e.base, newImg)
	if code != exitUsage || !strings.Contains(stderr, "differ in size") {
		t.Fatalf("size mismatch: exit %d %q", code, stderr)
	}
	oneErrorLine(t, stderr)
}

func TestEveryCommandHasExampleAndExitCodes(t *testing.T) {
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, getenv: os.Getenv}
	root := a.rootCmd()
	for _, c := range append(root.Commands(), root) {
		if c.Name() == "help" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no example", c.Name())
		}
		if c.Name() != "version" && !strings.Contains(c.Long, "Exit codes") {
			t.Errorf("%s: help does not document exit codes", c.Name())
		}
	}
	var out bytes.Buffer
	a.stdout = &out
	if code := a.run(context.Background(), []string{"version"}); code != 0 || !strings.HasPrefix(out.String(), "lvm-um-gen ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
}

func TestGenerateFromArtifactBase(t *testing.T) {
	e := newEnv(t)
	if code, _, stderr := e.run(t, context.Background(), e.generateArgs("-q")...); code != 0 {
		t.Fatalf("v2: exit %d %q", code, stderr)
	}
	v2 := filepath.Join(e.out, "a.mender")
	code, stdout, stderr := e.run(t, context.Background(), "estimate", "--base", v2, "--rootfs", e.rootfs, "--json")
	if code != 0 || !strings.Contains(stdout, `"units_changed": 2`) {
		t.Fatalf("estimate from .mender: exit %d %q\n%s", code, stderr, stdout)
	}
	code, _, stderr = e.run(t, context.Background(), "estimate", "--base", v2, "--rootfs", e.rootfs, "--base-verify-key", e.base)
	if code != exitUsage {
		t.Fatalf("bad verify key: exit %d %q", code, stderr)
	}
	oneErrorLine(t, stderr)
	code, _, stderr = e.run(t, context.Background(), "estimate", "--base", e.rootfs+"/../tmp", "--rootfs", e.rootfs)
	if code != exitUsage {
		t.Fatalf("directory as base: exit %d %q", code, stderr)
	}
}
