package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
)

// Geometry of the cost model the table reports: two write units and the
// LVM default chunk.
const (
	chunkSize = 4 << 10
	unitLarge = 1 << 20 // lvm-um's write unit
	unitSmall = 4 << 10
)

// writeUnits are the table's W columns, in order.
var writeUnits = []int64{unitLarge, unitSmall}

// Method names, the table's rows in order.
const (
	methodFresh     = "fresh mkfs.ext4 -d"
	methodRsync     = "rsync --inplace (loop mount)"
	methodDefault   = "lvm-um-gen, default placement"
	methodCostAware = "lvm-um-gen, cost-aware placement"
	methodBound     = "lower bound (see note)"
	methodWhole     = "whole files packed (see note)"
)

// Config is one benchmark run.
type Config struct {
	Seed      uint64
	Scale     float64
	ImageMiB  int
	Work      string   // scratch directory; must exist
	Bin       string   // lvm-um-gen binary for the timing rows; "" skips them
	Pairs     []string // releasegen kinds
	BlockSize []int
	Runs      int // timing runs (median)
	Log       io.Writer
	// ScaleScale and ScaleMiB are the scale case: a patch release at
	// that file-count scale on an image of that size (4 KiB blocks),
	// timed only. ScaleMiB 0 skips it.
	ScaleScale float64
	ScaleMiB   int
	ScaleRuns  int // timing runs of the scale case; 0: as Runs
	// TimingOnly measures only the time and memory rows (and the full
	// artifact's size against mender-artifact's): no cost rows, no
	// delta artifacts.
	TimingOnly bool
	// BigDirEntries is the big-directory case's new directory (see
	// bigdir.go); 0 skips it.
	BigDirEntries int
}

// Cell is one method's cost under one write unit.
type Cell struct {
	Units int64
	COW   int64
}

// Row is one method of one case; Skip says why it did not run.
type Row struct {
	Method string
	Cells  []Cell // per writeUnits
	Skip   string
}

// estimateReport is the part of `estimate --json` the bench reads.
type estimateReport struct {
	PredictedCOWBytes int64 `json:"predicted_cow_bytes"`
	WriteUnitBytes    int64 `json:"write_unit_bytes"`
	UnitsChanged      int64 `json:"units_changed"`
}

// Case is one release pair on one base block size.
type Case struct {
	Label     string // set for the scale case, which the tables name by it
	Pair      string
	BlockSize int
	NewBytes  int64 // content bytes of the new tree's regular files
	Rows      []Row
	Timing    Timing
	Artifacts Artifacts
	BigDir    *BigDir // the big-directory case only
}

// Report is a whole run.
type Report struct {
	Config Config
	Cases  []Case
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run generates the release pairs, builds the base images and measures
// every method of every case.
func Run(cfg Config) (*Report, error) {
	rep := &Report{Config: cfg}
	gen := releasegen.Config{Seed: cfg.Seed, Scale: cfg.Scale}
	for _, kind := range cfg.Pairs {
		base, next, err := releasegen.Pair(gen, kind)
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(cfg.Work, kind)
		baseDir, nextDir := filepath.Join(dir, "base"), filepath.Join(dir, "next")
		cfg.logf("%s: writing trees (%d -> %d paths, %d bytes new)", kind, len(base.Files), len(next.Files), next.Size())
		if err := base.Write(baseDir); err != nil {
			return nil, err
		}
		if err := next.Write(nextDir); err != nil {
			return nil, err
		}
		for _, bs := range cfg.BlockSize {
			c, err := runCase(cfg, kind, bs, base, next, baseDir, nextDir, dir)
			if err != nil {
				return nil, fmt.Errorf("releasebench: %s pair, %d-byte blocks: %w", kind, bs, err)
			}
			rep.Cases = append(rep.Cases, *c)
		}
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	if cfg.ScaleMiB > 0 {
		c, err := scaleCase(cfg)
		if err != nil {
			return nil, fmt.Errorf("releasebench: scale case: %w", err)
		}
		rep.Cases = append(rep.Cases, *c)
	}
	if cfg.BigDirEntries > 0 && !cfg.TimingOnly {
		c, err := bigDirCase(cfg)
		if err != nil {
			return nil, fmt.Errorf("releasebench: big-directory case: %w", err)
		}
		rep.Cases = append(rep.Cases, *c)
	}
	return rep, nil
}

// scaleBlockSize is the scale case's block size (mke2fs's for large
// images).
const scaleBlockSize = 4096

// scaleCase builds the scale case at run time (the release generator at
// cfg.ScaleScale: tens of thousands of paths, GiBs of content) and times
// it; its cost rows are the 450 MiB cases' story and are not repeated.
func scaleCase(cfg Config) (*Case, error) {
	base, next, err := releasegen.Pair(releasegen.Config{Seed: cfg.Seed, Scale: cfg.ScaleScale}, "patch")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.Work, "scale")
	defer os.RemoveAll(dir)
	baseDir, nextDir := filepath.Join(dir, "base"), filepath.Join(dir, "next")
	paths, bytes := len(next.Files), next.Size()
	cfg.logf("scale: writing trees (%d -> %d paths, %d bytes new)", len(base.Files), paths, bytes)
	if err := base.Write(baseDir); err != nil {
		return nil, err
	}
	if err := next.Write(nextDir); err != nil {
		return nil, err
	}
	baseImg := filepath.Join(dir, "base.img")
	cfg.logf("scale: base image (%d MiB)", cfg.ScaleMiB)
	if err := buildImage(scaleBlockSize, baseDir, baseImg, cfg.ScaleMiB); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(baseDir); err != nil {
		return nil, err
	}
	c := &Case{
		Label: fmt.Sprintf("scale: patch, %d paths, %s of files, %d MiB image, %d-byte blocks", paths, mibs(bytes), cfg.ScaleMiB, scaleBlockSize),
		Pair:  "patch", BlockSize: scaleBlockSize, NewBytes: bytes,
		Artifacts: Artifacts{Skip: "not run for the scale case"},
	}
	cfg.logf("scale: timing")
	syscall.Sync()
	sc := cfg
	if cfg.ScaleRuns > 0 {
		sc.Runs = cfg.ScaleRuns
	}
	c.Timing = timeCase(sc, scaleBlockSize, baseImg, nextDir, dir, cfg.ScaleMiB)
	return c, nil
}

// runCase measures every method for one pair on one block size.
func runCase(cfg Config, kind string, bs int, base, next *releasegen.Release, baseDir, nextDir, dir string) (*Case, error) {
	c := &Case{Pair: kind, BlockSize: bs, NewBytes: next.Size()}
	img := func(name string) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.img", name, bs)) }
	baseImg := img("base")
	cfg.logf("%s/%d: base image", kind, bs)
	if err := buildImage(bs, baseDir, baseImg, cfg.ImageMiB); err != nil {
		return nil, err
	}
	if cfg.TimingOnly {
		cfg.logf("%s/%d: timing", kind, bs)
		syscall.Sync()
		c.Timing = timeCase(cfg, bs, baseImg, nextDir, dir, cfg.ImageMiB)
		c.Artifacts = Artifacts{Skip: "not run (-timing-only)"}
		return c, os.Remove(baseImg)
	}
	fi, err := os.Stat(baseImg)
	if err != nil {
		return nil, err
	}
	models := make([]blockmap.Model, len(writeUnits))
	for i, w := range writeUnits {
		models[i] = blockmap.Model{WriteUnit: w, Chunk: chunkSize, ImageSize: fi.Size()}
	}
	// measure diffs out against the base under every model and removes it.
	measure := func(method, out string, only int) error {
		defer os.Remove(out)
		row := Row{Method: method, Cells: make([]Cell, len(models))}
		for i, m := range models {
			if only >= 0 && i != only {
				continue
			}
			r, _, err := blockmap.DiffFiles(baseImg, out, m)
			if err != nil {
				return err
			}
			row.Cells[i] = Cell{Units: r.UnitsChanged, COW: r.COWBytes}
		}
		if only >= 0 && len(c.Rows) > 0 && c.Rows[len(c.Rows)-1].Method == method {
			c.Rows[len(c.Rows)-1].Cells[only] = row.Cells[only]
			return nil
		}
		c.Rows = append(c.Rows, row)
		return nil
	}

	cfg.logf("%s/%d: %s", kind, bs, methodFresh)
	fresh := img("fresh")
	if err := buildImage(bs, nextDir, fresh, cfg.ImageMiB); err != nil {
		return nil, err
	}
	if err := measure(methodFresh, fresh, -1); err != nil {
		return nil, err
	}

	cfg.logf("%s/%d: %s", kind, bs, methodRsync)
	if skip := rsyncSkip(); skip != "" {
		c.Rows = append(c.Rows, Row{Method: methodRsync, Skip: skip})
	} else {
		out, err := rsyncInplace(baseImg, nextDir, dir)
		if err != nil {
			return nil, err
		}
		if err := measure(methodRsync, out, -1); err != nil {
			return nil, err
		}
	}

	cfg.logf("%s/%d: %s", kind, bs, methodDefault)
	out := img("lvm")
	wrote, err := lvmSync(baseImg, nextDir, out, nil)
	if err != nil {
		return nil, err
	}
	if err := fsckClean(out); err != nil {
		return nil, fmt.Errorf("%s image fails e2fsck: %w", methodDefault, err)
	}
	cfg.logf("%s/%d: %s", kind, bs, methodBound)
	facts, err := releaseFacts(baseImg, out, wrote)
	if err != nil {
		return nil, err
	}
	if err := measure(methodDefault, out, -1); err != nil {
		return nil, err
	}

	for i := range models {
		cfg.logf("%s/%d: %s, W=%s", kind, bs, methodCostAware, sizeName(models[i].WriteUnit))
		if _, err := lvmSync(baseImg, nextDir, out, &models[i]); err != nil {
			return nil, err
		}
		if err := fsckClean(out); err != nil {
			return nil, fmt.Errorf("%s image (W=%d) fails e2fsck: %w", methodCostAware, models[i].WriteUnit, err)
		}
		if err := measure(methodCostAware, out, i); err != nil {
			return nil, err
		}
	}

	whole := *facts
	whole.NewData = wholeFileBlocks(base, next, int64(bs))
	for _, r := range []struct {
		method string
		facts  *bound.Facts
	}{{methodBound, facts}, {methodWhole, &whole}} {
		row, err := boundRow(r.method, r.facts, models)
		if err != nil {
			return nil, err
		}
		c.Rows = append(c.Rows, row)
	}

	cfg.logf("%s/%d: timing", kind, bs)
	// Flush what earlier steps left dirty, so it is not written back
	// during (and charged to) the timed runs.
	syscall.Sync()
	c.Timing = timeCase(cfg, bs, baseImg, nextDir, dir, cfg.ImageMiB)
	cfg.logf("%s/%d: full and delta artifacts", kind, bs)
	c.Artifacts = artifactCase(cfg, baseImg, nextDir, dir)
	return c, os.Remove(baseImg)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
