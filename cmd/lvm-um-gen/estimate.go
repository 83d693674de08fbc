package main

import (
	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/spf13/cobra"
)

type estimateFlags struct {
	baseKey      string
	base, rootfs string
	snapshot     int64
	reserve      int64
	geometry     generator.Geometry
	json         bool
	top          int
	mapPath      string
	quiet        bool
}

func (a *app) estimateCmd() *cobra.Command {
	var f estimateFlags
	cmd := &cobra.Command{
		Use:   "estimate --base OLD --rootfs NEW [--snapshot-size SIZE]",
		Short: "Predict the snapshot space a release needs, without writing an artifact",
		Long: `estimate builds the new image in a temporary directory exactly as
generate would, measures it against the base and prints the prediction
next to its lower bound (what no placement of this release can beat:
its new data packed perfectly plus the metadata that must change), why
blocks changed (file data, directories, extent trees, inode tables,
bitmaps, descriptors, superblock...) and the top contributors (paths,
and metadata no path was charged with, ranked by the write units they
dirtied), then deletes the image. With --snapshot-size it also says
whether the release fits (exit code 3 when it does not). --json prints
the same JSON report as generate --report; --map draws the write units
as an SVG grid coloured by why each changed, with a legend and totals.

` + sizesHelp + `

` + exitCodesHelp,
		Example: `  lvm-um-gen estimate --base v1.ext4 --rootfs rootfs-v2/ --snapshot-size 32MiB
  lvm-um-gen estimate --base v1.ext4 --rootfs rootfs-v2/ --write-unit 4KiB --json --top 20`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return classify(a.runEstimate(cmd, &f))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.base, "base", "", "the previous release: its ext4 image or its .mender artifact (required)")
	fs.StringVar(&f.baseKey, "base-verify-key", "", "PEM public key the --base artifact must be signed with")
	fs.StringVar(&f.rootfs, "rootfs", "", "the new rootfs: a directory, a tar archive (any compression) or an ext4 image (required)")
	sizeFlag(fs, &f.snapshot, "snapshot-size", 0, "size of the snapshot's COW store; enables the fits verdict")
	reserveFlag(fs, &f.reserve)
	geometryFlags(fs, &f.geometry)
	fs.BoolVar(&f.json, "json", false, "print the JSON report instead of the summary")
	fs.IntVar(&f.top, "top", generator.DefaultTop, "contributors to list")
	fs.StringVar(&f.mapPath, "map", "", "write an SVG map of the write units, coloured by why each changed, here")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bars")
	return cmd
}

func (a *app) runEstimate(cmd *cobra.Command, f *estimateFlags) error {
	if f.base == "" || f.rootfs == "" {
		return usageErr("--base and --rootfs are required (see --help)")
	}
	if err := checkTop(f.top); err != nil {
		return err
	}
	_, epochSet, err := a.sourceDateEpoch()
	if err != nil {
		return err
	}
	opts := &generator.Options{
		SourceDateEpoch: epochSet,
		BasePath:        f.base,
		RootfsPath:      f.rootfs,
		BaseVerifyKey:   f.baseKey,
		MapPath:         f.mapPath,
		Geometry:        f.geometry,
		SnapshotBytes:   f.snapshot,
		ReserveBytes:    f.reserve,
		Top:             f.top,
		// The summary shows no checksum: only --json pays for the two
		// sha256 passes.
		NoChecksums: !f.json,
		Progress:    a.progress(f.quiet || f.json),
	}
	if f.top == 0 {
		opts.Top = -1
	}
	if flag, ok := generator.WritesStdout(opts); ok {
		return usageErr("%s %s: standard output carries estimate's own report; give a file, a pipe or /dev/stderr", flag, f.mapPath)
	}
	r, err := generator.Estimate(cmd.Context(), a.newBuilder(), opts)
	if err != nil {
		return err
	}
	if f.json {
		data, err := generator.MarshalReport(r)
		if err != nil {
			return err
		}
		if _, err := a.stdout.Write(data); err != nil {
			return err
		}
	} else {
		if err := generator.WriteSummary(a.stdout, r); err != nil {
			return err
		}
		if err := generator.WriteBreakdown(a.stdout, r); err != nil {
			return err
		}
	}
	if r.Fits != nil && !*r.Fits {
		return &exitError{code: exitOverflow, err: &generator.RefusalError{Report: r}}
	}
	return nil
}
