package generator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mendersoftware/mender-artifact/artifact"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/lvm-um-gen/lvm-um-gen/generator/generatortest"
	"github.com/lvm-um-gen/lvm-um-gen/generator/internal/testkeys"
)

const imageSize = 6*generator.MiB + 8192

type fixture struct {
	dir, out, tmp string
	base, rootfs  string
	opts          *generator.Options
	fake          *generatortest.Fake
}

// newFixture makes a base image, a rootfs directory and options for a
// release that changes three write units and fits a 32 MiB snapshot.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	f.out = filepath.Join(f.dir, "out")
	f.tmp = filepath.Join(f.dir, "tmp")
	f.base = filepath.Join(f.dir, "base.ext4")
	f.rootfs = filepath.Join(f.dir, "rootfs")
	for _, d := range []string{f.out, f.tmp, f.rootfs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	generatortest.WriteBase(t, f.base, imageSize)
	t.Setenv("TMPDIR", f.tmp) // where mender-artifact puts its temporary files
	// Units 0 (the superblock's block), 2 (two blocks charged to a path)
	// and 6 (a block nobody is charged with) change.
	f.fake = &generatortest.Fake{
		Offsets: []int64{100, 2*generator.MiB + 5, 2*generator.MiB + 9000, 6*generator.MiB + 100},
		Files:   generator.FileCounts{Added: 2, Changed: 3, Removed: 1, Unchanged: 40},
		Touched: []written.Path{{Path: "usr/lib/libbig.so", Blocks: []uint64{512, 514}}},
	}
	f.opts = &generator.Options{
		BasePath:   f.base,
		RootfsPath: f.rootfs,
		// The 2021 prototype's 1 MiB units, so each flipped byte dirties a
		// whole unit of 256 chunks (the CLI's tests cover the default).
		Geometry:      generator.Geometry{WriteUnit: generator.PrototypeWriteUnit, ChunkSize: generator.DefaultChunkSize},
		SnapshotBytes: 32 * generator.MiB,
		ReserveBytes:  generator.DefaultReserve,
		OutputPath:    filepath.Join(f.out, "update.mender"),
		Artifact: generator.ArtifactSpec{
			Name:        "release-2",
			DeviceTypes: []string{"raspberrypi4", "qemux86-64"},
			Epoch:       1700000000,
		},
	}
	return f
}

func (f *fixture) generate(t *testing.T) *generator.Report {
	t.Helper()
	r, err := generator.Generate(context.Background(), f.fake, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// entries lists a directory's names, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// assertOnly fails unless out holds exactly names and TMPDIR is empty.
func (f *fixture) assertOnly(t *testing.T, names ...string) {
	t.Helper()
	sort.Strings(names)
	if got := entries(t, f.out); !slices.Equal(got, names) {
		t.Fatalf("output directory holds %q, want %q", got, names)
	}
	if got := entries(t, f.tmp); len(got) != 0 {
		t.Fatalf("temporary files left in TMPDIR: %q", got)
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func writeScript(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho "+name+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateRefusal(t *testing.T) {
	f := newFixture(t)
	f.opts.SnapshotBytes = 10 * generator.MiB // COW ~3 MiB + 8 MiB reserve
	f.opts.ReportPath = filepath.Join(f.out, "report.json")
	f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
	r, err := generator.Generate(context.Background(), f.fake, f.opts)
	var refusal *generator.RefusalError
	if !errors.As(err, &refusal) || refusal.Report != r {
		t.Fatalf("err = %v, want a refusal", err)
	}
	f.assertOnly(t, "report.json")
	var got map[string]any
	data, _ := os.ReadFile(f.opts.ReportPath)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got["fits"] != false || got["headroom_bytes"].(float64) >= 0 || got["artifact_path"] != nil || got["image_path"] != nil {
		t.Fatalf("report: %s", data)
	}
	if len(got["top_contributors"].([]any)) != 3 {
		t.Fatalf("contributors: %s", data)
	}
	for _, want := range []string{"over by", "snapshot has 10.0 MiB"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q lacks %q", err, want)
		}
	}
	var msg bytes.Buffer
	if err := generator.WriteRefusalDetail(&msg, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lower bound", "top contributors", "/usr/lib/libbig.so", "metadata  superblock"} {
		if !bytes.Contains(msg.Bytes(), []byte(want)) {
			t.Errorf("refusal detail lacks %q:\n%s", want, msg.String())
		}
	}
	// Even the lower bound overflows a snapshot smaller than the reserve.
	r.SnapshotBytes = generator.MiB
	msg.Reset()
	if err := generator.WriteRefusalDetail(&msg, r); err != nil || !strings.Contains(msg.String(), "cannot fit") {
		t.Errorf("refusal detail (%v):\n%s", err, msg.String())
	}
}

func TestGenerateBuilderFailureLeavesNothing(t *testing.T) {
	f := newFixture(t)
	f.opts.ReportPath = filepath.Join(f.out, "report.json")
	f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
	f.fake.Err = errors.New("engine exploded")
	if _, err := generator.Generate(context.Background(), f.fake, f.opts); err == nil {
		t.Fatal("no error")
	}
	f.assertOnly(t)
}

func TestGenerateCancelLeavesNothing(t *testing.T) {
	t.Run("during build", func(t *testing.T) {
		f := newFixture(t)
		f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
		ctx, cancel := context.WithCancel(context.Background())
		f.fake.Hook = cancel
		if _, err := generator.Generate(ctx, f.fake, f.opts); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		f.assertOnly(t)
	})
	t.Run("during artifact write", func(t *testing.T) {
		f := newFixture(t)
		f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
		f.opts.ReportPath = filepath.Join(f.out, "report.json")
		ctx, cancel := context.WithCancel(context.Background())
		f.opts.Progress = &cancelOn{label: "compressing payload", cancel: cancel}
		if _, err := generator.Generate(ctx, f.fake, f.opts); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if !f.opts.Progress.(*cancelOn).fired {
			t.Fatal("never reached the artifact write")
		}
		f.assertOnly(t)
	})
}

// cancelOn cancels when the step named label makes progress.
type cancelOn struct {
	label, cur string
	cancel     func()
	fired      bool
}

func (c *cancelOn) Start(label string, total int64) { c.cur = label }
func (c *cancelOn) Add(n int64) {
	if c.cur == c.label && !c.fired {
		c.fired = true
		c.cancel()
	}
}
func (c *cancelOn) Finish() {}

func TestGenerateInputErrors(t *testing.T) {
	cases := map[string]func(f *fixture){
		"missing base":     func(f *fixture) { f.opts.BasePath = filepath.Join(f.dir, "nope") },
		"base is dir":      func(f *fixture) { f.opts.BasePath = f.rootfs },
		"missing rootfs":   func(f *fixture) { f.opts.RootfsPath = filepath.Join(f.dir, "nope") },
		"no name":          func(f *fixture) { f.opts.Artifact.Name = "" },
		"no device":        func(f *fixture) { f.opts.Artifact.DeviceTypes = nil },
		"bad compression":  func(f *fixture) { f.opts.Artifact.Compression = "brotli" },
		"bad geometry":     func(f *fixture) { f.opts.Geometry.ChunkSize = 3000 },
		"no output dir":    func(f *fixture) { f.opts.OutputPath = filepath.Join(f.dir, "nodir", "a.mender") },
		"missing script":   func(f *fixture) { f.opts.Artifact.Scripts = []string{filepath.Join(f.dir, "ArtifactInstall_Enter_01")} },
		"bad script name":  func(f *fixture) { f.opts.Artifact.Scripts = []string{writeScript(t, f.dir, "install.sh")} },
		"provides clash":   func(f *fixture) { f.opts.Artifact.Provides = map[string]string{generator.ProvidesChecksum: "x"} },
		"depends clash":    func(f *fixture) { f.opts.Artifact.Depends = map[string]string{generator.ProvidesChecksum: "x"} },
		"no snapshot size": func(f *fixture) { f.opts.SnapshotBytes = 0 },
		"epoch too late":   func(f *fixture) { f.opts.Artifact.Epoch = generator.MaxEpoch + 1 },
		"output is base":   func(f *fixture) { f.opts.OutputPath = f.base },
		"image is base":    func(f *fixture) { f.opts.ImageOut = filepath.Join(f.dir, ".", "base.ext4") },
		"report is output": func(f *fixture) { f.opts.ReportPath = f.opts.OutputPath },
		"output is a dir":  func(f *fixture) { f.opts.OutputPath = f.out },
		"image is link to base": func(f *fixture) {
			f.opts.ImageOut = filepath.Join(f.dir, "link.ext4")
			if err := os.Link(f.base, f.opts.ImageOut); err != nil {
				panic(err)
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			mutate(f)
			_, err := generator.Generate(context.Background(), f.fake, f.opts)
			var ie *generator.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			if f.fake.Calls != 0 {
				t.Fatal("built before validating inputs")
			}
			f.assertOnly(t)
		})
	}
	// -d rootfs-image.checksum is fine once the base checksum is dropped.
	f := newFixture(t)
	f.opts.NoBaseChecksum = true
	f.opts.Artifact.Depends = map[string]string{generator.ProvidesChecksum: "abc"}
	f.generate(t)
}

func TestEstimate(t *testing.T) {
	f := newFixture(t)
	f.opts.SnapshotBytes = 0
	r, err := generator.Estimate(context.Background(), f.fake, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Fits != nil || r.UnitsChanged != 3 || r.ChunksChanged != 2*256+2 {
		t.Fatalf("report %+v", r)
	}
	f.assertOnly(t)
	// Why: the superblock's block, two blocks charged to a path (of no
	// inode the image has, so taken for directory blocks) and one nobody
	// is charged with; who: the path and the metadata, each a unit.
	wantReasons := []generator.Reason{{Reason: "directory", Blocks: 2, Units: 1}, {Reason: "superblock", Blocks: 1, Units: 1},
		{Reason: "other", Blocks: 1, Units: 1}}
	if !slices.Equal(r.Reasons, wantReasons) || r.BlocksChanged != 4 || r.BlockBytes != 4096 {
		t.Errorf("reasons %+v, %d blocks of %d bytes", r.Reasons, r.BlocksChanged, r.BlockBytes)
	}
	wantTop := []generator.Contributor{
		{Name: "/usr/lib/libbig.so", Kind: "path", Blocks: 2, Units: 1, SoleUnits: 1, UnitShare: 1},
		{Name: "other", Kind: "metadata", Blocks: 1, Units: 1, SoleUnits: 1, UnitShare: 1},
		{Name: "superblock", Kind: "metadata", Blocks: 1, Units: 1, SoleUnits: 1, UnitShare: 1},
	}
	if !slices.Equal(r.TopContributors, wantTop) {
		t.Errorf("contributors %+v", r.TopContributors)
	}
	// No file data, no inode: nothing must change.
	if r.LowerBound != (generator.LowerBound{COWBytes: 2 * 4096}) {
		t.Errorf("lower bound %+v", r.LowerBound)
	}
	var out bytes.Buffer
	if err := generator.WriteSummary(&out, r); err != nil {
		t.Fatal(err)
	}
	if err := generator.WriteBreakdown(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lower bound:   0 units, 8.0 KiB COW: nothing has to change", "changed blocks by reason",
		"         1       1  superblock", "   1.00       1       1         2  path      /usr/lib/libbig.so"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("human output lacks %q:\n%s", want, out.String())
		}
	}
	// --top bounds the rows; the reasons are all there.
	f.opts.Top = 1
	if r, err = generator.Estimate(context.Background(), f.fake, f.opts); err != nil || len(r.TopContributors) != 1 || len(r.Reasons) != 3 {
		t.Fatalf("top 1: %v %+v", err, r)
	}
}

// TestGenerateMap: --map draws the units coloured by why they changed,
// with the legend and totals, for generate, on refusal and for estimate.
func TestGenerateMap(t *testing.T) {
	f := newFixture(t)
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	f.generate(t)
	f.assertOnly(t, "update.mender", "map.svg")
	data, _ := os.ReadFile(f.opts.MapPath)
	var doc struct {
		Rects []struct {
			Fill  string `xml:"fill,attr"`
			Title string `xml:"title"`
		} `xml:"g>rect"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	var tips []string
	fills := map[string]bool{}
	for _, r := range doc.Rects {
		if r.Title != "" {
			tips = append(tips, r.Title)
			fills[r.Fill] = true
		}
	}
	if len(tips) != 3 || len(fills) != 3 {
		t.Fatalf("changed cells %q in %d colours:\n%s", tips, len(fills), data)
	}
	for _, want := range []string{"unit 0 (offset 0 B): superblock", "unit 2 (offset 2 MiB): directory; top owner /usr/lib/libbig.so",
		"unit 6 (offset 6 MiB): other"} {
		if !slices.ContainsFunc(tips, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no cell says %q: %q", want, tips)
		}
	}
	for _, want := range []string{"3 of 7 units changed", "superblock: 1 unit", "unchanged: 4 units"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("map lacks %q", want)
		}
	}

	// On refusal the map comes with the report.
	f = newFixture(t)
	f.opts.SnapshotBytes = 9 * generator.MiB
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	f.opts.ReportPath = filepath.Join(f.out, "r.json")
	var refusal *generator.RefusalError
	if _, err := generator.Generate(context.Background(), f.fake, f.opts); !errors.As(err, &refusal) {
		t.Fatalf("err = %v", err)
	}
	f.assertOnly(t, "map.svg", "r.json")

	// Estimate writes it too.
	f = newFixture(t)
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	if _, err := generator.Estimate(context.Background(), f.fake, f.opts); err != nil {
		t.Fatal(err)
	}
	f.assertOnly(t, "map.svg")
}

func verifier(t *testing.T, pub []byte) func(msg, sig []byte) error {
	v, err := artifact.NewPKIVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	return v.Verify
}

// touchAll sets the mtime of files, to prove it does not reach the output.
func touchAll(t *testing.T, when time.Time, paths ...string) {
	for _, p := range paths {
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGenerateFromArtifactBase uses release 2's artifact as the base of
// release 3: the base is extracted, its signature checked when a key is
// given, and the base checksum is release 2's image.
func TestGenerateFromArtifactBase(t *testing.T) {
	f := newFixture(t)
	priv, pub := testkeys.PEM(t, true)
	signer, err := generator.ParseSigningKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Artifact.Signer = signer
	f.opts.ImageOut = filepath.Join(f.out, "v2.ext4")
	f.generate(t)
	pubPath := filepath.Join(f.dir, "pub.pem")
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	_, otherPub := testkeys.PEM(t, true)
	otherPath := filepath.Join(f.dir, "other.pem")
	if err := os.WriteFile(otherPath, otherPub, 0o644); err != nil {
		t.Fatal(err)
	}

	next := *f.opts
	next.BasePath = f.opts.OutputPath
	next.BaseVerifyKey = pubPath
	next.OutputPath = filepath.Join(f.out, "v3.mender")
	next.ImageOut = ""
	next.Artifact.Name = "release-3"
	r, err := generator.Generate(context.Background(), f.fake, &next)
	if err != nil {
		t.Fatal(err)
	}
	if r.BaseSHA256 != sha(t, f.opts.ImageOut) || r.UnitsChanged != 3 {
		t.Fatalf("base %s, want the v2 image's %s; units %d", r.BaseSHA256, sha(t, f.opts.ImageOut), r.UnitsChanged)
	}
	f.assertOnly(t, "update.mender", "v2.ext4", "v3.mender")

	next.BaseVerifyKey = otherPath
	next.OutputPath = filepath.Join(f.out, "v3b.mender")
	_, err = generator.Generate(context.Background(), f.fake, &next)
	var ie *generator.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--base") {
		t.Fatalf("wrong key: %v", err)
	}
	f.assertOnly(t, "update.mender", "v2.ext4", "v3.mender")
}

// Without checksums (what estimate's summary asks for: it prints none),
// the report is the same but for the two sha256s, and its summary is the
// same text.
func TestEstimateNoChecksums(t *testing.T) {
	f := newFixture(t)
	f.opts.SnapshotBytes = 0
	with, err := generator.Estimate(context.Background(), f.fake, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.opts.NoChecksums = true
	without, err := generator.Estimate(context.Background(), f.fake, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if with.BaseSHA256 == "" || with.ImageSHA256 == "" || without.BaseSHA256 != "" || without.ImageSHA256 != "" {
		t.Fatalf("checksums with %q %q, without %q %q", with.BaseSHA256, with.ImageSHA256, without.BaseSHA256, without.ImageSHA256)
	}
	summary := func(r *generator.Report) string {
		var out bytes.Buffer
		if err := generator.WriteSummary(&out, r); err != nil {
			t.Fatal(err)
		}
		if err := generator.WriteBreakdown(&out, r); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if a, b := summary(with), summary(without); a != b {
		t.Errorf("summaries differ:\n%s\n---\n%s", a, b)
	}
	without.BaseSHA256, without.ImageSHA256 = with.BaseSHA256, with.ImageSHA256
	if !reflect.DeepEqual(with, without) {
		t.Errorf("reports differ beyond the checksums:\n%+v\n%+v", with, without)
	}
}
