package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEngineGenerate runs generate with the real ext4sync engine on a
// Yocto-like mkfs image and checks the new image with e2fsck and the
// artifact with mender-artifact.
func TestEngineGenerate(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	fsck := ext4test.Tool(t, "e2fsck")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	oldTree, newTree := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	files := map[string]string{
		"etc/os-release":       "VERSION=1\n",
		"usr/bin/app":          strings.Repeat("app v1 ", 20000),
		"usr/lib/libkeep.so":   strings.Repeat("keep ", 50000),
		"usr/share/doc/readme": "hello\n",
	}
	writeTree(t, oldTree, files)
	files["etc/os-release"] = "VERSION=2\n"
	files["usr/bin/app"] = strings.Repeat("app v2 ", 20000)
	files["usr/bin/newtool"] = strings.Repeat("new ", 3000)
	delete(files, "usr/share/doc/readme")
	writeTree(t, newTree, files)

	base := filepath.Join(dir, "base.ext4")
	mk := exec.Command(mkfs, "-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", "4096", "-d", oldTree, base, "16M")
	mk.Env = append(os.Environ(), "E2FSPROGS_FAKE_TIME=1700000000")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v\n%s", err, out)
	}
	if out, err := exec.Command(fsck, "-pfD", base).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("fsck -pfD: %v\n%s", err, out)
		}
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1700000000"
		}
		return ""
	}}
	img, rep := filepath.Join(out, "new.ext4"), filepath.Join(out, "r.json")
	code := a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", newTree, "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "qemux86-64", "-o", filepath.Join(out, "v2.mender"), "--image-out", img, "--report", rep, "--write-unit", "4KiB"})
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	t.Logf("summary:\n%s", stdout.String())
	if o, err := exec.Command(fsck, "-fn", img).CombinedOutput(); err != nil {
		t.Fatalf("e2fsck -fn on the new image: %v\n%s", err, o)
	}
	var r generator.Report
	data, _ := os.ReadFile(rep)
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Files.Added != 1 || r.Files.Removed != 3 || r.Files.Unchanged != 1 || r.Files.Changed < 2 || r.UnitsChanged == 0 || r.UnitsChanged > r.UnitsTotal/2 {
		t.Fatalf("report:\n%s", data)
	}
	checkAttribution(t, &r, string(data))
	if ext4test.HaveTools(t, "mender-artifact") {
		if o, err := exec.Command("mender-artifact", "validate", filepath.Join(out, "v2.mender")).CombinedOutput(); err != nil {
			t.Fatalf("mender-artifact validate: %v\n%s", err, o)
		}
	}

	// Same inputs, another directory: the same artifact, byte for byte.
	out2 := filepath.Join(dir, "out2")
	if err := os.Mkdir(out2, 0o755); err != nil {
		t.Fatal(err)
	}
	if code := a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", newTree, "--snapshot-size", "32MiB",
		"-n", "v2", "-t", "qemux86-64", "-o", filepath.Join(out2, "v2.mender"), "--write-unit", "4KiB", "-q"}); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr.String())
	}
	first, _ := os.ReadFile(filepath.Join(out, "v2.mender"))
	second, _ := os.ReadFile(filepath.Join(out2, "v2.mender"))
	if !bytes.Equal(first, second) {
		t.Fatal("two runs with the engine gave different artifacts")
	}

	// Refusal: 8 MiB snapshot, 8 MiB reserve.
	stderr.Reset()
	refused := filepath.Join(out2, "refused.mender")
	code = a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", newTree, "--snapshot-size", "8MiB",
		"-n", "v2", "-t", "qemux86-64", "-o", refused, "-q"})
	if code != exitOverflow || !strings.Contains(stderr.String(), "/usr/bin/app") || !strings.Contains(stderr.String(), "lower bound") {
		t.Fatalf("refusal: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(refused); !os.IsNotExist(err) {
		t.Fatalf("refused artifact exists: %v", err)
	}

	// estimate, for people and as JSON, and its map, at both write units.
	for _, w := range []string{"4KiB", "1MiB"} {
		stdout.Reset()
		svg := filepath.Join(out2, "map-"+w+".svg")
		if code := a.run(context.Background(), []string{"estimate", "--base", base, "--rootfs", newTree, "--write-unit", w, "--map", svg, "--top", "50", "-q"}); code != 0 {
			t.Fatalf("estimate W=%s: exit %d\n%s", w, code, stderr.String())
		}
		human := stdout.String()
		t.Logf("estimate W=%s:\n%s", w, human)
		for _, s := range []string{"lower bound:", "changed blocks by reason", "file data", "inode table", "top contributors",
			"path      /usr/bin/app", "metadata  inode bitmap"} {
			if !strings.Contains(human, s) {
				t.Errorf("W=%s: estimate lacks %q", w, s)
			}
		}
		stdout.Reset()
		if code := a.run(context.Background(), []string{"estimate", "--base", base, "--rootfs", newTree, "--write-unit", w, "--json", "--top", "50"}); code != 0 {
			t.Fatalf("estimate --json W=%s: exit %d\n%s", w, code, stderr.String())
		}
		var er generator.Report
		if err := json.Unmarshal(stdout.Bytes(), &er); err != nil {
			t.Fatal(err)
		}
		checkAttribution(t, &er, stdout.String())
		checkMap(t, svg, &er)
	}
}

// checkAttribution checks a report of the real engine: reasons include
// file data and metadata, metadata rows rank next to paths, the shares add
// up, and the lower bound is above zero and at most what was achieved.
func checkAttribution(t *testing.T, r *generator.Report, doc string) {
	t.Helper()
	reasons := map[string]bool{}
	for _, x := range r.Reasons {
		reasons[x.Reason] = true
	}
	for _, want := range []string{"file data", "inode table", "inode bitmap", "directory"} {
		if !reasons[want] {
			t.Errorf("W=%d: no %q among the reasons:\n%s", r.WriteUnitBytes, want, doc)
		}
	}
	kinds := map[string]int{}
	share := 0.0
	for _, c := range r.TopContributors {
		kinds[c.Kind]++
		share += c.UnitShare
	}
	if kinds["path"] == 0 || kinds["metadata"] == 0 {
		t.Errorf("W=%d: contributors by kind %v:\n%s", r.WriteUnitBytes, kinds, doc)
	}
	if len(r.TopContributors) < generator.DefaultTop && math.Abs(share-float64(r.UnitsChanged)) > 1e-6 {
		t.Errorf("W=%d: shares add up to %v of %d units", r.WriteUnitBytes, share, r.UnitsChanged)
	}
	lb := r.LowerBound
	if lb.Units == 0 || lb.Units > r.UnitsChanged || lb.COWBytes > r.PredictedCOWBytes || lb.NewDataBlocks == 0 {
		t.Errorf("W=%d: lower bound %+v against %d units, %d COW bytes", r.WriteUnitBytes, lb, r.UnitsChanged, r.PredictedCOWBytes)
	}
}

// checkMap checks the --map of a report: one coloured cell per changed
// unit in as many colours as reasons at most, the totals and a legend row
// per reason.
func checkMap(t *testing.T, path string, r *generator.Report) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rects []struct {
			Fill  string `xml:"fill,attr"`
			Title string `xml:"title"`
		} `xml:"g>rect"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("map is not XML: %v", err)
	}
	cells, fills := 0, map[string]bool{}
	for _, x := range doc.Rects {
		if x.Title != "" {
			cells++
			fills[x.Fill] = true
		}
	}
	if int64(cells) != r.UnitsChanged || len(fills) < 2 || len(fills) > len(r.Reasons) {
		t.Errorf("W=%d: map has %d changed cells in %d colours, report %d units, %d reasons", r.WriteUnitBytes, cells, len(fills), r.UnitsChanged, len(r.Reasons))
	}
	if want := fmt.Sprintf("%d of %d units changed", r.UnitsChanged, r.UnitsTotal); !bytes.Contains(data, []byte(want)) {
		t.Errorf("W=%d: map lacks %q", r.WriteUnitBytes, want)
	}
	if !bytes.Contains(data, []byte("file data: ")) || !bytes.Contains(data, []byte("unchanged: ")) {
		t.Errorf("W=%d: map legend lacks file data or unchanged", r.WriteUnitBytes)
	}
}

// mkfsImage builds a Yocto-like 4 KiB-block image of tree.
func mkfsImage(t *testing.T, tree, img, size string) {
	t.Helper()
	mkfsImageWith(t, tree, img, size, "-b", "4096")
}

// mkfsImageWith is mkfsImage with more mkfs.ext4 options (a later -b
// or -O wins).
func mkfsImageWith(t *testing.T, tree, img, size string, opts ...string) {
	t.Helper()
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	fsck := ext4test.Tool(t, "e2fsck")
	args := append([]string{"-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file"}, opts...)
	mk := exec.Command(mkfs, append(args, "-d", tree, img, size)...)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v\n%s", err, out)
	}
	if out, err := exec.Command(fsck, "-pfD", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("fsck -pfD: %v\n%s", err, out)
		}
	}
}

// TestEngineBadInputs: a corrupt base and a rootfs too big for the image
// are bad input (exit 2, naming the input), and leave nothing behind.
func TestEngineBadInputs(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	small, big := filepath.Join(dir, "small"), filepath.Join(dir, "big")
	writeTree(t, small, map[string]string{"etc/version": "1\n"})
	writeTree(t, big, map[string]string{"etc/version": "2\n", "huge": strings.Repeat("x", 6<<20)})
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, small, base, "4M")
	corrupt := filepath.Join(dir, "corrupt.ext4")
	data, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	data[1024+0x3FC] ^= 0xFF // superblock checksum
	if err := os.WriteFile(corrupt, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ base, rootfs, want string }{
		{corrupt, small, "--base " + corrupt},
		{base, big, "--rootfs " + big},
	} {
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(string) string { return "" }}
		code := a.run(context.Background(), []string{"generate", "--base", c.base, "--rootfs", c.rootfs, "--snapshot-size", "32MiB",
			"-n", "v2", "-t", "d", "-o", filepath.Join(out, "a.mender"), "--image-out", filepath.Join(out, "a.ext4")})
		if code != exitUsage || !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", c.want, code, stderr.String())
		}
		if es, _ := os.ReadDir(out); len(es) != 0 {
			t.Fatalf("left behind %d files", len(es))
		}
	}
}

// TestEngineTarRootfs feeds the rootfs as a compressed tar as well as a
// directory: both give a clean image with the one new file. (Other counts
// may differ: the archive's times are whole seconds.)
func TestEngineTarRootfs(t *testing.T) {
	tarBin := ext4test.Tool(t, "tar")
	fsck := ext4test.Tool(t, "e2fsck")
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	oldTree, newTree := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeTree(t, oldTree, map[string]string{"etc/version": "1\n", "usr/bin/app": strings.Repeat("v1", 5000)})
	writeTree(t, newTree, map[string]string{"etc/version": "2\n", "usr/bin/app": strings.Repeat("v2", 5000), "usr/bin/new": "new\n"})
	base := filepath.Join(dir, "base.ext4")
	mkfsImage(t, oldTree, base, "8M")
	archive := filepath.Join(dir, "new.tar.gz")
	if out, err := exec.Command(tarBin, "-C", newTree, "--numeric-owner", "-czf", archive, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	counts := map[string]generator.FileCounts{}
	for _, rootfs := range []string{newTree, archive} {
		out := filepath.Join(dir, "out-"+filepath.Base(rootfs))
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(string) string { return "" }}
		img, rep := filepath.Join(out, "new.ext4"), filepath.Join(out, "r.json")
		if code := a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", rootfs, "--snapshot-size", "32MiB",
			"-n", "v2", "-t", "d", "-o", filepath.Join(out, "v2.mender"), "--image-out", img, "--report", rep, "-q"}); code != 0 {
			t.Fatalf("%s: exit %d %s", rootfs, code, stderr.String())
		}
		if o, err := exec.Command(fsck, "-fn", img).CombinedOutput(); err != nil {
			t.Fatalf("e2fsck -fn: %v\n%s", err, o)
		}
		var r generator.Report
		data, _ := os.ReadFile(rep)
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		counts[rootfs] = r.Files
	}
	if counts[newTree].Added != 1 || counts[archive].Added != 1 {
		t.Fatalf("file counts: directory %+v, tar %+v", counts[newTree], counts[archive])
	}
}
