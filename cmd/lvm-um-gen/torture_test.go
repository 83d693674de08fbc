package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check/checktest"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// The corruption harness of issue 13. Environment:
//
//	LVMUM_TORTURE_RUNS  runs (default 100; make torture sets 1000)
//	LVMUM_TORTURE_SEED  the seed of the bases and corruptions (default 1)
//	LVMUM_TORTURE_KEEP  a directory to copy the base of every failing run to
//	LVMUM_TORTURE_ONLY  one run's number, to reproduce it alone
const (
	tortureRunsEnv = "LVMUM_TORTURE_RUNS"
	tortureSeedEnv = "LVMUM_TORTURE_SEED"
	tortureKeepEnv = "LVMUM_TORTURE_KEEP"
	tortureOnlyEnv = "LVMUM_TORTURE_ONLY"
	tortureRuns    = 100
)

// tortureKind is one kind of Yocto-like base: mkfs.ext4 -i 4096 -O
// metadata_csum_seed,orphan_file -d TREE, then fsck.ext4 -pfD.
type tortureKind struct {
	name string
	opt  ext4test.ImageOptions
}

var tortureKinds = []tortureKind{
	{"1k-csum", ext4test.ImageOptions{BlockSize: 1024, Size: 32 << 20}},
	{"1k-nocsum", ext4test.ImageOptions{BlockSize: 1024, Size: 32 << 20, Features: []string{"^metadata_csum,^metadata_csum_seed"}}},
	{"4k-csum", ext4test.ImageOptions{BlockSize: 4096, Size: 64 << 20}},
	{"4k-nocsum", ext4test.ImageOptions{BlockSize: 4096, Size: 64 << 20, Features: []string{"^metadata_csum,^metadata_csum_seed"}}},
	{"4k-32bit", ext4test.ImageOptions{BlockSize: 4096, Size: 64 << 20, No64bit: true}},
}

// tortureBase is a clean base, the release's tree and what the judges
// compare the output with.
type tortureBase struct {
	kind tortureKind
	img  string
	next string // the new rootfs
	want *ext4test.Snapshot
	im   *checktest.Image
}

// Outcomes of one run.
const (
	outRefusedBad   = "exit 2, e2fsck rejects the base too"
	outRefusedClean = "exit 2, e2fsck -fn exits 0 on the base"
	outClean        = "exit 0, clean output, tree equal"
	outBadOutput    = "FAIL: exit 0, output e2fsck rejects or tree differs"
	outExit1        = "FAIL: exit 1"
	outOther        = "FAIL: other exit or outputs left behind"
)

type tortureResult struct {
	run     int
	kind    string
	damage  checktest.Damage
	outcome string
	detail  string
}

// TestTorture corrupts 1 to 16 bytes of one random metadata block of a
// Yocto-like base (checksums recomputed so they stay valid) and runs
// generate onto a mutated tree: every run must end in exit 2 with nothing
// written, or in an image e2fsck -fn accepts whose tree (read by debugfs)
// equals the source.
func TestTorture(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs", "cp")
	runs := envInt(t, tortureRunsEnv, tortureRuns)
	seed := uint64(envInt(t, tortureSeedEnv, 1))
	work := t.TempDir()
	bases := make([]*tortureBase, len(tortureKinds))
	var wg sync.WaitGroup
	errs := make([]error, len(tortureKinds))
	for i, k := range tortureKinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bases[i], errs[i] = makeTortureBase(filepath.Join(work, k.name), k, seed+uint64(i))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	results := make([]tortureResult, runs)
	only := -1
	if os.Getenv(tortureOnlyEnv) != "" {
		only = envInt(t, tortureOnlyEnv, 0)
		results = make([]tortureResult, 1)
	}
	next := make(chan int)
	workers := min(runtime.GOMAXPROCS(0), 4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				b := bases[i%len(bases)]
				r := tortureRun(t, b, filepath.Join(work, fmt.Sprintf("run%d", i)), i, rand.New(rand.NewPCG(seed, uint64(i))))
				if only >= 0 {
					results[0] = r
				} else {
					results[i] = r
				}
			}
		}()
	}
	for i := 0; i < runs; i++ {
		if only < 0 || i == only {
			next <- i
		}
	}
	close(next)
	wg.Wait()
	report(t, results, seed)
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}

// makeTortureBase builds the base image and the release tree of kind k.
func makeTortureBase(dir string, k tortureKind, seed uint64) (*tortureBase, error) {
	rng := rand.New(rand.NewPCG(seed, 13))
	old, next := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	if err := os.MkdirAll(old, 0o755); err != nil {
		return nil, err
	}
	g := ext4test.DefaultGenOptions()
	g.BigDir, g.MaxTarget = 600, 900
	if err := ext4test.GenTree(rng, old, g); err != nil {
		return nil, err
	}
	if out, err := exec.Command("cp", "-a", old, next).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cp -a: %v: %s", err, out)
	}
	if _, err := ext4test.Mutate(rng, next, ext4test.MutateOptions{Ops: 30, MaxTarget: 900}); err != nil {
		return nil, err
	}
	b := &tortureBase{kind: k, img: filepath.Join(dir, "base.ext4"), next: next}
	if err := ext4test.BuildImageAt(b.img, old, k.opt); err != nil {
		return nil, err
	}
	var err error
	if b.want, err = ext4test.SnapshotDirErr(next); err != nil {
		return nil, err
	}
	if b.im, err = checktest.Open(b.img); err != nil {
		return nil, fmt.Errorf("%s: %w", k.name, err)
	}
	return b, nil
}

// tortureRun corrupts a copy of b's base and runs generate on it.
func tortureRun(t *testing.T, b *tortureBase, dir string, run int, rng *rand.Rand) tortureResult {
	res := tortureResult{run: run, kind: b.kind.name}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		res.outcome, res.detail = outOther, err.Error()
		return res
	}
	base := filepath.Join(dir, "base.ext4")
	if err := copyFile(b.img, base); err != nil {
		res.outcome, res.detail = outOther, err.Error()
		return res
	}
	// Every kind of metadata block is a target; inode tables and
	// directories, whose damage is the subtlest, more often.
	var kinds []string
	for _, k := range checktest.Kinds {
		if len(b.im.Targets(k)) == 0 {
			continue
		}
		kinds = append(kinds, k)
		switch k {
		case checktest.KindInodeTable:
			kinds = append(kinds, k, k, k)
		case checktest.KindDirLeaf, checktest.KindDirIndex:
			kinds = append(kinds, k)
		}
	}
	ts := b.im.Targets(kinds[rng.IntN(len(kinds))])
	d, err := b.im.Corrupt(base, ts[rng.IntN(len(ts))], rng)
	res.damage = d
	if err != nil {
		res.outcome, res.detail = outOther, "corrupt: "+err.Error()
		return res
	}
	baseOK := ext4test.FsckErr(base) == nil
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, newBuilder: newEngineBuilder, getenv: func(string) string { return "" }}
	img := filepath.Join(out, "new.ext4")
	code := a.run(context.Background(), []string{"generate", "--base", base, "--rootfs", b.next, "--snapshot-size", "1GiB",
		"-n", "r", "-t", "d", "-o", filepath.Join(out, "a.mender"), "--image-out", img, "--compression", "none", "-q"})
	res.detail = strings.TrimSpace(stderr.String())
	switch code {
	case exitUsage:
		res.outcome = outRefusedBad
		if baseOK {
			res.outcome = outRefusedClean
		}
		if es, _ := os.ReadDir(out); len(es) != 0 || strings.Count(stderr.String(), "\n") != 1 {
			res.outcome = outOther
			res.detail += fmt.Sprintf(" (left %d files)", len(es))
		}
	case exitOK:
		res.outcome = outClean
		if err := ext4test.FsckErr(img); err != nil {
			res.outcome, res.detail = outBadOutput, err.Error()
			break
		}
		got, err := ext4test.SnapshotImageErr(img)
		if err != nil {
			res.outcome, res.detail = outBadOutput, err.Error()
			break
		}
		if diff := ext4test.Diff(b.want, got, ext4test.EngineCheckOptions().Compare); len(diff) > 0 {
			res.outcome, res.detail = outBadOutput, strings.Join(diff[:min(len(diff), 5)], "; ")
		}
	case exitFailure:
		res.outcome = outExit1
	default:
		res.outcome = outOther
	}
	if strings.HasPrefix(res.outcome, "FAIL") {
		if keep := os.Getenv(tortureKeepEnv); keep != "" {
			_ = copyFile(base, filepath.Join(keep, fmt.Sprintf("run%d-%s.ext4", run, b.kind.name)))
		}
	}
	return res
}

// report prints the counts per base kind and outcome (the README's
// table) and fails the test on any failing run.
func report(t *testing.T, results []tortureResult, seed uint64) {
	outcomes := []string{outRefusedBad, outRefusedClean, outClean, outBadOutput, outExit1, outOther}
	counts := map[string]map[string]int{}
	for _, r := range results {
		if counts[r.kind] == nil {
			counts[r.kind] = map[string]int{}
		}
		counts[r.kind][r.outcome]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "corruption harness: %d runs, seed %d\n| base kind | runs |", len(results), seed)
	for _, o := range outcomes {
		fmt.Fprintf(&b, " %s |", o)
	}
	b.WriteString("\n")
	for _, k := range tortureKinds {
		c := counts[k.name]
		n := 0
		for _, v := range c {
			n += v
		}
		fmt.Fprintf(&b, "| %s | %d |", k.name, n)
		for _, o := range outcomes {
			fmt.Fprintf(&b, " %d |", c[o])
		}
		b.WriteString("\n")
	}
	byKind := map[string]map[string]int{}
	for _, r := range results {
		k := r.damage.Target.Kind
		if byKind[k] == nil {
			byKind[k] = map[string]int{}
		}
		byKind[k][r.outcome]++
	}
	var ks []string
	for k := range byKind {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		fmt.Fprintf(&b, "  %s: %v\n", k, byKind[k])
	}
	t.Log(b.String())
	if os.Getenv(tortureRunsEnv) != "" {
		fmt.Print(b.String())
	}
	for _, r := range results {
		if r.outcome == outRefusedClean {
			t.Logf("run %d (%s): refused although e2fsck -fn accepts the base:\n  damage: %s\n  %s", r.run, r.kind, r.damage, r.detail)
		}
		if strings.HasPrefix(r.outcome, "FAIL") {
			t.Errorf("run %d (%s, seed %d): %s\n  damage: %s\n  %s", r.run, r.kind, seed, r.outcome, r.damage, r.detail)
		}
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
