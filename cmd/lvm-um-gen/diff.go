package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/spf13/cobra"
)

// diffReport is the JSON of `diff --json`.
type diffReport struct {
	ImageBytes        int64  `json:"image_bytes"`
	WriteUnitBytes    int64  `json:"write_unit_bytes"`
	ChunkBytes        int64  `json:"chunk_bytes"`
	UnitsTotal        int64  `json:"units_total"`
	UnitsChanged      int64  `json:"units_changed"`
	ChunksChanged     int64  `json:"chunks_changed"`
	PredictedCOWBytes int64  `json:"predicted_cow_bytes"`
	OldSHA256         string `json:"old_sha256"`
	NewSHA256         string `json:"new_sha256"`
}

func (a *app) diffCmd() *cobra.Command {
	var g generator.Geometry
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff OLD.ext4 NEW.ext4",
		Short: "Measure what writing one image over another costs in snapshot space",
		Long: `diff compares two images of equal size write unit by write unit (streaming,
never loading them) and prints the units and chunks that change and the
predicted COW: (2 + N + floor(N/(C/16))) * C for N chunks written of C bytes.

` + sizesHelp + `

` + exitCodesHelp,
		Example: `  lvm-um-gen diff v1.ext4 v2.ext4
  lvm-um-gen diff --write-unit 4KiB --chunk-size 64KiB --json v1.ext4 v2.ext4`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("diff: want two images, OLD and NEW, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return classify(a.runDiff(cmd, args[0], args[1], g, asJSON))
		},
	}
	geometryFlags(cmd.Flags(), &g)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) runDiff(cmd *cobra.Command, oldPath, newPath string, g generator.Geometry, asJSON bool) error {
	if err := g.Validate(); err != nil {
		return usageErr("--write-unit/--chunk-size: %v", err)
	}
	for _, p := range []string{oldPath, newPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return usageErr("%v", err)
		}
		if !fi.Mode().IsRegular() {
			return usageErr("%s: not a regular file", p)
		}
	}
	d, err := generator.DiffImages(cmd.Context(), oldPath, newPath, g, nil)
	if errors.Is(err, generator.ErrSizeMismatch) {
		return usageErr("%v", err)
	}
	if err != nil {
		return err
	}
	rep := diffReport{
		ImageBytes: d.ImageSize, WriteUnitBytes: d.WriteUnit, ChunkBytes: d.Chunk, UnitsTotal: d.Units,
		UnitsChanged: d.UnitsChanged, ChunksChanged: d.ChunksWritten, PredictedCOWBytes: d.COWBytes,
		OldSHA256: d.OldSHA256, NewSHA256: d.NewSHA256,
	}
	if asJSON {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s\n", data)
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "write units:   %d of %d changed (%s each)\nchunks:        %d changed (%s each)\npredicted COW: %s\n",
		rep.UnitsChanged, rep.UnitsTotal, generator.HumanSize(rep.WriteUnitBytes),
		rep.ChunksChanged, generator.HumanSize(rep.ChunkBytes), generator.FormatSize(rep.PredictedCOWBytes))
	return err
}
