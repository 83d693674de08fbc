package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Timing compares lvm-um-gen with the flow it replaces on the same tree:
// `mkfs.ext4 -d` (what Yocto makes) followed by `mender-artifact write
// module-image` of that image. Each command runs cfg.Runs times, the four
// interleaved run by run (mkfs, mender-artifact of that mkfs image,
// estimate, generate), so a slower or faster machine moment hits all of
// them; the ratios are taken run by run and their median reported.
type Timing struct {
	Mkfs, MenderArtifact, Estimate, Generate usage // median wall, highest peak
	// EstimateVsMkfs and GenerateVsFlow are the medians of the per-run
	// ratios estimate/mkfs and generate/(mkfs + mender-artifact).
	EstimateVsMkfs, GenerateVsFlow float64
	// ArtifactBytes is generate's artifact; MenderBytes is what
	// mender-artifact writes for the same image (generate's) with the same
	// compression (gzip, both tools' default).
	ArtifactBytes, MenderBytes int64
	Skip                       string
	MenderSkip                 string // why mender-artifact did not run
	// Predicted is what estimate --json predicted, run with W = 1 MiB (the
	// table's first column; the CLI's default is the chunk), to compare
	// with the library rows; nil if it printed none.
	Predicted *Cell
}

// menderArtifact is the CLI the flow uses.
const menderArtifact = "mender-artifact"

// timeCase runs the timing of one case in work (a scratch directory).
func timeCase(cfg Config, bs int, baseImg, nextDir, work string, imageMiB int) Timing {
	if cfg.Bin == "" {
		return Timing{Skip: "skipped: no -bin"}
	}
	var t Timing
	if !haveTool(menderArtifact) {
		t.MenderSkip = "mender-artifact not installed"
	}
	fresh := filepath.Join(work, "timing-fresh.img")
	maOut := filepath.Join(work, "timing-ma.mender")
	art := filepath.Join(work, "timing.mender")
	image := filepath.Join(work, "timing-image.img")
	defer func() {
		for _, p := range []string{fresh, maOut, art, image} {
			os.Remove(p)
		}
	}()
	env := []string{"SOURCE_DATE_EPOCH=" + fmt.Sprint(epoch)}
	generate := []string{"generate", "--base", baseImg, "--rootfs", nextDir, "--snapshot-size", "1GiB",
		"-n", "bench", "-t", "bench", "-o", art, "--quiet"}
	var mk, ma, est, gen []usage
	var estRatio, genRatio []float64
	for i := 0; i < cfg.Runs; i++ {
		syscall.Sync() // the previous run's writeback is not this run's
		u, err := mkfs(bs, nextDir, fresh, imageMiB)
		if err != nil {
			return Timing{Skip: "mkfs failed: " + firstLine(err.Error())}
		}
		mk = append(mk, u)
		var flow = u.Wall
		if t.MenderSkip == "" {
			syscall.Sync()
			u, err := run(nil, menderArtifact, []string{"write", "module-image", "-T", "lvm-um", "-n", "bench", "-t", "bench", "-f", fresh, "-o", maOut})
			if err != nil {
				t.MenderSkip = "mender-artifact failed: " + firstLine(err.Error())
			} else {
				ma = append(ma, u)
				flow += u.Wall
			}
			os.Remove(maOut)
		}
		os.Remove(fresh)
		syscall.Sync()
		u, err = run(env, cfg.Bin, []string{"estimate", "--base", baseImg, "--rootfs", nextDir, "--quiet"})
		if err != nil {
			return Timing{Skip: "estimate failed: " + firstLine(err.Error())}
		}
		est = append(est, u)
		estRatio = append(estRatio, ratio(int64(u.Wall), int64(mk[i].Wall)))
		syscall.Sync()
		if u, err = run(env, cfg.Bin, generate); err != nil {
			return Timing{Skip: "generate failed: " + firstLine(err.Error())}
		}
		gen = append(gen, u)
		if t.MenderSkip == "" {
			genRatio = append(genRatio, ratio(int64(u.Wall), int64(flow)))
		}
		os.Remove(art)
	}
	t.Mkfs, t.Estimate, t.Generate = medianUsage(mk), medianUsage(est), medianUsage(gen)
	t.EstimateVsMkfs = medianOf(estRatio)
	if t.MenderSkip == "" {
		t.MenderArtifact, t.GenerateVsFlow = medianUsage(ma), medianOf(genRatio)
	}
	// What estimate predicts at W = 1 MiB (the cost tables' first column),
	// once, untimed: --json adds the two images' sha256, which the summary
	// timed above does not print.
	_, out, err := runOut(env, cfg.Bin, []string{"estimate", "--base", baseImg, "--rootfs", nextDir, "--write-unit", "1MiB", "--json", "--quiet"})
	if err != nil {
		return Timing{Skip: "estimate --json failed: " + firstLine(err.Error())}
	}
	var r estimateReport
	if json.Unmarshal(out, &r) == nil && r.WriteUnitBytes == unitLarge {
		t.Predicted = &Cell{Units: r.UnitsChanged, COW: r.PredictedCOWBytes}
	}
	// The artifact sizes, once, untimed: generate keeping its image, and
	// mender-artifact of that same image.
	if _, err := run(env, cfg.Bin, append(generate, "--image-out", image)); err != nil {
		return Timing{Skip: "generate --image-out failed: " + firstLine(err.Error())}
	}
	t.ArtifactBytes = fileSize(art)
	if t.MenderSkip == "" {
		if _, err := run(nil, menderArtifact, []string{"write", "module-image", "-T", "lvm-um", "-n", "bench", "-t", "bench", "-f", image, "-o", maOut}); err != nil {
			t.MenderSkip = "mender-artifact failed: " + firstLine(err.Error())
		} else {
			t.MenderBytes = fileSize(maOut)
		}
	}
	return t
}

// medianUsage is the median wall time and the highest peak of runs.
func medianUsage(us []usage) usage {
	var walls []time.Duration
	var out usage
	for _, u := range us {
		walls = append(walls, u.Wall)
		out.PeakKiB = max(out.PeakKiB, u.PeakKiB)
	}
	slices.Sort(walls)
	if len(walls) > 0 {
		out.Wall = walls[len(walls)/2]
	}
	return out
}

func medianOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}
