package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// fakeEstimateEnv makes the test binary act as `lvm-um-gen estimate`, so
// the timing rows run without building the CLI.
const fakeEstimateEnv = "RELEASEBENCH_FAKE_ESTIMATE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEstimateEnv) == "1" {
		if len(os.Args) >= 2 && os.Args[1] == "generate" {
			os.Exit(fakeGenerate(os.Args[2:]))
		}
		if len(os.Args) < 2 || os.Args[1] != "estimate" {
			fmt.Fprintln(os.Stderr, "fake lvm-um-gen: want estimate, got", os.Args[1:])
			os.Exit(2)
		}
		// What the real estate prints for a release that changes nothing.
		fmt.Println(`{"write_unit_bytes":1048576,"units_changed":0,"predicted_cow_bytes":8192}`)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// fakeGenerate acts as `lvm-um-gen generate`: it writes an artifact
// shaped like the real one (an outer tar with header.tar.gz and
// data/0000.tar.gz, smaller for --delta) and the report.
func fakeGenerate(args []string) int {
	var out, report, image string
	delta := false
	for i, a := range args {
		switch a {
		case "-o":
			out = args[i+1]
		case "--report":
			report = args[i+1]
		case "--image-out":
			image = args[i+1]
		case "--delta":
			delta = true
		}
	}
	if image != "" {
		if err := os.WriteFile(image, make([]byte, 64<<10), 0o644); err != nil {
			return 1
		}
	}
	payload := 1000
	if delta {
		payload = 100
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, size := range map[string]int{"version": 10, "header.tar.gz": 50, "data/0000.tar.gz": payload} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(size)})
		tw.Write(make([]byte, size))
	}
	tw.Close()
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return 1
	}
	rep := fmt.Sprintf(`{"artifact_bytes":%d,"payload_bytes":%d,"manifest_bytes":40}`, buf.Len(), payload*10)
	if report == "" {
		return 0
	}
	if err := os.WriteFile(report, []byte(rep), 0o644); err != nil {
		return 1
	}
	return 0
}

// TestSmoke runs the whole benchmark at a tiny scale and checks that every
// case has every row, the no-op release changes nothing, the lower bound is
// below every measured method, and both renderings carry every row.
func TestSmoke(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeEstimateEnv, "1")
	cfg := Config{
		Seed: 7, Scale: 0.02, ImageMiB: 32, Work: t.TempDir(), Bin: exe, Runs: 1,
		Pairs: []string{"patch", "noop"}, BlockSize: []int{1024, 4096},
		ScaleScale: 0.03, ScaleMiB: 48,
	}
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cases) != 5 {
		t.Fatalf("%d cases, want 4 and the scale case", len(rep.Cases))
	}
	scale, cases := rep.Cases[4], rep.Cases[:4]
	if tm := scale.Timing; scale.Label == "" || len(scale.Rows) != 0 || tm.Skip != "" || tm.Estimate.Wall <= 0 || tm.Generate.Wall <= 0 || tm.Mkfs.Wall <= 0 || tm.EstimateVsMkfs <= 0 {
		t.Errorf("scale case %+v", scale)
	}
	methods := []string{methodFresh, methodRsync, methodDefault, methodCostAware, methodBound, methodWhole}
	for _, c := range cases {
		name := fmt.Sprintf("%s/%d", c.Pair, c.BlockSize)
		if len(c.Rows) != len(methods) {
			t.Fatalf("%s: %d rows, want %d: %+v", name, len(c.Rows), len(methods), c.Rows)
		}
		for i, r := range c.Rows {
			if r.Method != methods[i] {
				t.Errorf("%s: row %d is %q, want %q", name, i, r.Method, methods[i])
			}
			if r.Skip == "" && len(r.Cells) != len(writeUnits) {
				t.Errorf("%s: %s has %d cells", name, r.Method, len(r.Cells))
			}
		}
		if skip := rsyncSkip(); skip != "" && c.Rows[1].Skip != skip {
			t.Errorf("%s: rsync row skip %q, want %q", name, c.Rows[1].Skip, skip)
		}
		if a := c.Artifacts; a.Skip != "" || a.Full.Bytes <= a.Delta.Bytes || a.Full.HeaderBytes != 50 || a.Delta.PayloadBytes != 100 || a.Full.ManifestBytes != 40 {
			t.Errorf("%s: artifacts %+v", name, a)
		}
		if tm := c.Timing; tm.Skip != "" || tm.Estimate.Wall <= 0 || tm.Mkfs.Wall <= 0 || tm.Estimate.PeakKiB <= 0 || tm.Generate.Wall <= 0 || tm.ArtifactBytes <= 0 {
			t.Errorf("%s: timing %+v", name, c.Timing)
		}
		if tm := c.Timing; haveTool(menderArtifact) && (tm.MenderSkip != "" || tm.MenderArtifact.Wall <= 0 || tm.MenderBytes <= 0 || tm.GenerateVsFlow <= 0) {
			t.Errorf("%s: mender-artifact timing %+v", name, tm)
		}
		bound := c.Rows[len(c.Rows)-2]
		if c.Pair == "noop" && bound.Cells[0].Units+bound.Cells[1].Units != 0 {
			t.Errorf("%s: lower bound of a no-op release is %+v", name, bound.Cells)
		}
		for _, r := range c.Rows[:len(c.Rows)-2] {
			if r.Skip != "" {
				continue
			}
			for i, cell := range r.Cells {
				if cell.Units < bound.Cells[i].Units {
					t.Errorf("%s: %s changes %d units at W=%d, below the lower bound %d", name, r.Method, cell.Units, writeUnits[i], bound.Cells[i].Units)
				}
				if c.Pair == "noop" && (r.Method == methodDefault || r.Method == methodCostAware) && cell.Units != 0 {
					t.Errorf("%s: %s changes %d units at W=%d for a no-op release", name, r.Method, cell.Units, writeUnits[i])
				}
			}
		}
		if c.Pair == "noop" {
			if note := c.predictionNote(); !strings.Contains(note, "(= default placement, cost-aware placement)") {
				t.Errorf("%s: estimate's prediction note %q", name, note)
			}
		}
		for i, cell := range c.Rows[len(c.Rows)-1].Cells {
			if cell.Units < bound.Cells[i].Units {
				t.Errorf("%s: whole files packed (%d units) below the lower bound (%d) at W=%d", name, cell.Units, bound.Cells[i].Units, writeUnits[i])
			}
		}
		if c.Pair == "patch" && bound.Cells[0].Units == 0 {
			t.Errorf("%s: lower bound is 0 for a patch release", name)
		}
	}
	for _, markdown := range []bool{false, true} {
		var out bytes.Buffer
		if err := rep.Write(&out, markdown); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		for _, m := range methods {
			if n := strings.Count(s, m); n != len(cases) {
				t.Errorf("markdown=%v: %q appears %d times, want %d", markdown, m, n, len(cases))
			}
		}
		if !strings.Contains(s, scale.Label) || !strings.Contains(s, "generate wall <=") {
			t.Errorf("markdown=%v: no scale case or generate target:\n%s", markdown, s)
		}
		if n := strings.Count(s, "no-op changes 0 units"); n != 4 {
			t.Errorf("markdown=%v: %d no-op target lines, want 4:\n%s", markdown, n, s)
		}
		if strings.Contains(s, "no-op changes 0 units") && strings.Contains(s, "0 units | MISS") {
			t.Errorf("no-op target missed:\n%s", s)
		}
		if markdown && !strings.Contains(s, "| method |") {
			t.Errorf("no Markdown table:\n%s", s)
		}
		if !markdown {
			t.Log("\n" + s)
		}
	}
}

func TestSizeName(t *testing.T) {
	for n, want := range map[int64]string{4096: "4KiB", 1 << 20: "1MiB", 1536: "1536B", 3 << 19: "1536KiB"} {
		if got := sizeName(n); got != want {
			t.Errorf("sizeName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNewBlocks(t *testing.T) {
	const bs = 4
	freed := map[uint64]bool{blockHash([]byte("zzzz")): true}
	cases := []struct {
		content string
		want    int64
	}{
		{"aaaabbbbccccdddd", 4},
		{"aaaa\x00\x00\x00\x00cc", 2}, // a zero block is a hole; the short tail counts
		{"zzzzbbbb", 1},               // a block equal to a freed one is free
		{"", 0},
	}
	for _, c := range cases {
		if got := newBlocks([]byte(c.content), bs, freed); got != c.want {
			t.Errorf("newBlocks(%q) = %d, want %d", c.content, got, c.want)
		}
	}
}
