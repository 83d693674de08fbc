// Command releasebench is `make bench`: for a patch release and a no-op
// release (blockmap/releasegen) on 1 KiB and 4 KiB block bases, it measures
// side by side the write units changed and the predicted snapshot COW of
//
//   - a fresh mkfs.ext4 -d image of the new tree (the block-shift baseline),
//   - rsync -aHAX --inplace --delete into a loop-mounted copy of the base
//     (root with loop devices and rsync only),
//   - lvm-um-gen with the default and with the cost-aware placement,
//   - a lower bound (defined in the output's footnote),
//
// for W = 1 MiB and W = 4 KiB with C = 4 KiB, plus the wall time and peak
// memory of `lvm-um-gen estimate` next to the time of mkfs.ext4 -d of the same
// tree, the sizes of the full (lvm-um) and delta (lvm-um-delta) artifacts
// `lvm-um-gen generate` writes of the same release with the wall time of
// each; then a release adding one 50k-entry directory (issue 14, item 7:
// estimate against mkfs.ext4 -d, and the directory indexed), and prints
// the issues' targets as PASS/MISS.
//
//	go run -tags nopkcs11 ./blockmap/cmd/releasebench -bin bin/lvm-um-gen [-quick] [-markdown]
//
// -timing-only -pairs patch -block-sizes 4096 -scale-runs 1 is issue 11's
// table alone (the time and memory rows, both sizes) in a fraction of the
// whole run's time.
//
// e2fsprogs (mkfs.ext4, fsck.ext4, e2fsck) must be installed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Defaults: the 450 MiB images; -quick is a smoke run.
const (
	defaultImageMiB = 450
	quickImageMiB   = 64
	quickScale      = 0.1
	// The scale case: tens of thousands of paths, GiBs of content.
	defaultScaleScale = 8
	defaultScaleMiB   = 3072
	quickScaleScale   = 0.3
	quickScaleMiB     = 128
	// The big-directory case: one new directory of this many names.
	defaultBigDirEntries = 50000
	quickBigDirEntries   = 5000
)

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func mainErr() error {
	cfg := Config{
		Pairs:     []string{"patch", "noop"},
		BlockSize: []int{1024, 4096},
		Log:       os.Stderr,
	}
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the release pairs")
	flag.Float64Var(&cfg.Scale, "scale", 1, "file-count scale of the trees (1 = ~10k files, ~200 MiB)")
	flag.IntVar(&cfg.ImageMiB, "image-mib", defaultImageMiB, "size of every image in MiB")
	flag.StringVar(&cfg.Bin, "bin", "", "lvm-um-gen binary to time `estimate` with (empty: no timing rows)")
	flag.IntVar(&cfg.Runs, "runs", timingRuns, "timing runs per row (the median is reported)")
	flag.Float64Var(&cfg.ScaleScale, "scale-case-scale", defaultScaleScale, "file-count scale of the scale case's trees")
	flag.IntVar(&cfg.ScaleMiB, "scale-case-mib", defaultScaleMiB, "image size of the scale case in MiB (0 skips it)")
	flag.IntVar(&cfg.ScaleRuns, "scale-runs", 0, "timing runs of the scale case (0: as -runs)")
	flag.BoolVar(&cfg.TimingOnly, "timing-only", false, "time estimate and generate against mkfs + mender-artifact only: no cost rows, no delta artifacts")
	pairs := flag.String("pairs", strings.Join(cfg.Pairs, ","), "release pairs to run, comma-separated (empty: none, only the scale and big-directory cases)")
	sizes := flag.String("block-sizes", "1024,4096", "block sizes of the pairs' base images, comma-separated")
	flag.IntVar(&cfg.BigDirEntries, "bigdir-entries", defaultBigDirEntries, "names in the big-directory case's new directory (0, or -timing-only, skips it)")
	work := flag.String("work", "", "scratch directory, kept afterwards (default: a temporary one, removed)")
	quick := flag.Bool("quick", false, fmt.Sprintf("smoke run: scale %g, %d MiB images", quickScale, quickImageMiB))
	markdown := flag.Bool("markdown", false, "print the tables as Markdown")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("releasebench: unexpected arguments %q", flag.Args())
	}
	if *quick {
		cfg.Scale, cfg.ImageMiB = quickScale, quickImageMiB
		cfg.ScaleScale, cfg.ScaleMiB = quickScaleScale, quickScaleMiB
		cfg.BigDirEntries = min(cfg.BigDirEntries, quickBigDirEntries)
	}
	cfg.Pairs = nil
	for _, p := range strings.Split(*pairs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.Pairs = append(cfg.Pairs, p)
		}
	}
	cfg.BlockSize = nil
	for _, b := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || (n != 1024 && n != 2048 && n != 4096) {
			return fmt.Errorf("releasebench: -block-sizes: %q is not 1024, 2048 or 4096", b)
		}
		cfg.BlockSize = append(cfg.BlockSize, n)
	}
	if cfg.Runs < 1 || cfg.ScaleRuns < 0 {
		return fmt.Errorf("releasebench: -runs must be at least 1, -scale-runs at least 0 (0: as -runs)")
	}
	for _, tool := range []string{"mkfs.ext4", "fsck.ext4", "e2fsck"} {
		if !haveTool(tool) {
			return fmt.Errorf("releasebench: %s not found: install e2fsprogs", tool)
		}
	}
	if *work == "" {
		dir, err := os.MkdirTemp("", "releasebench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Work = dir
	} else {
		if err := os.MkdirAll(*work, 0o755); err != nil {
			return err
		}
		cfg.Work = *work
	}
	rep, err := Run(cfg)
	if err != nil {
		return err
	}
	return rep.Write(os.Stdout, *markdown)
}
