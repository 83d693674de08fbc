package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/spf13/cobra"
)

type generateFlags struct {
	baseKey        string
	base, rootfs   string
	snapshot       int64
	reserve        int64
	geometry       generator.Geometry
	name           string
	devices        []string
	output         string
	compression    string
	key            string
	version        string
	provides       []string
	depends        []string
	scripts        []string
	noBaseChecksum bool
	delta          bool
	imageOut       string
	report         string
	mapPath        string
	top            int
	quiet          bool
}

func (a *app) generateCmd() *cobra.Command {
	var f generateFlags
	cmd := &cobra.Command{
		Use:   "generate --base OLD --rootfs NEW --snapshot-size SIZE -n NAME -t DEVICE -o OUT.mender",
		Short: "Build the new image over the base and write an lvm-um artifact",
		Long: `generate applies the new rootfs to a copy of the base image in place (a
.mender base, e.g. the previous lvm-um release, is unpacked first),
measures which write units and snapshot chunks the device will write,
and, when predicted COW + reserve fits in the snapshot, writes a Mender
format 3 module-image artifact of type lvm-um with one payload file,
rootfs, the full new image.

With --delta the artifact is of type lvm-um-delta instead, and its one
payload file, rootfs.simg, is an Android sparse image holding only the
chunks that differ from the base (DONT_CARE elsewhere: "as the base"). A
device installs it only with the lvm-um module, and only while its rootfs
still matches the base wherever the delta does not write; the full
artifact installs in any case. A delta always depends on the base's
checksum, so --delta and --no-base-checksum exclude each other.

The artifact provides rootfs-image.version (--software-version, default
the artifact name) and rootfs-image.checksum (sha256 of the new image),
clears rootfs-image.*, and depends on rootfs-image.checksum = sha256 of
the base unless --no-base-checksum. Its meta-data records the prediction:
predicted_cow_bytes, write_unit_bytes, chunk_bytes, snapshot_bytes,
reserve_bytes, base_sha256, image_bytes, units_changed, chunks_changed,
and, under lvm_um_manifest, the base manifest: a hash per chunk of the
base and the chunks the release changes, with which the device measures
its drift and its exact cost before it changes anything.

When the release does not fit, nothing is written but the --report (with
"fits": false) and the --map, the reason and the top contributors go to stderr and the
exit code is 3. Outputs appear only complete: on any error or on Ctrl-C
no artifact, image or report is left behind. The same inputs and
SOURCE_DATE_EPOCH (default 0) give a byte-identical artifact.

The write unit defaults to the chunk size: the lvm-um module compares
and writes chunk by chunk, so a chunk that differs costs one chunk of
COW. Devices that still run the 2021 shell prototype of the module write
whole 1 MiB units: build their artifacts with --write-unit 1MiB (and
without --delta, which the prototype cannot install).

The default reserve is 8MiB: what a read-mostly rootfs writes to the
snapshot between the reboot into the update and its commit (journal
commits, logs, state). Set --reserve for devices that write more.

The summary goes to stdout; --quiet drops it and the progress bars
(drawn on stderr only when it is a terminal).

` + sizesHelp + `

` + exitCodesHelp,
		Example: `  lvm-um-gen generate --base v1.ext4 --rootfs rootfs-v2/ --snapshot-size 32MiB \
      -n release-2 -t raspberrypi4 -o release-2.mender --report release-2.json

  # signed, zstd, kept image, extra depends
  SOURCE_DATE_EPOCH=1700000000 lvm-um-gen generate --base v1.ext4 --rootfs rootfs-v2/ \
      --snapshot-size 32MiB --reserve 4MiB -n release-2 -t rpi4 -t rpi4-64 \
      -k signing.pem --compression zstd_better -d bootloader.version:2024.01 \
      --image-out v2.ext4 -o release-2.mender`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return classify(a.runGenerate(cmd, &f))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.base, "base", "", "the previous release: its ext4 image or its .mender artifact (required)")
	fs.StringVar(&f.baseKey, "base-verify-key", "", "PEM public key the --base artifact must be signed with")
	fs.StringVar(&f.rootfs, "rootfs", "", "the new rootfs: a directory, a tar archive (any compression) or an ext4 image (required)")
	sizeFlag(fs, &f.snapshot, "snapshot-size", 0, "size of the snapshot's COW store on the device (required)")
	reserveFlag(fs, &f.reserve)
	geometryFlags(fs, &f.geometry)
	fs.StringVarP(&f.name, "artifact-name", "n", "", "artifact name (required)")
	fs.StringArrayVarP(&f.devices, "device-type", "t", nil, "compatible device type; repeat for more (required)")
	fs.StringVarP(&f.output, "output-path", "o", "", "the artifact to write (required)")
	fs.StringVar(&f.compression, "compression", generator.DefaultCompression, "payload compression: gzip, zstd_fastest, zstd_fast, zstd_better, zstd_best, lzma or none")
	fs.StringVarP(&f.key, "key", "k", "", "sign with this PEM private key (RSA >= 2048 bits or ECDSA P-256)")
	fs.StringVar(&f.version, "software-version", "", "value of rootfs-image.version (default: the artifact name)")
	fs.StringArrayVarP(&f.provides, "provides", "p", nil, "extra type-info provides KEY:VALUE; repeatable")
	fs.StringArrayVarP(&f.depends, "depends", "d", nil, "extra type-info depends KEY:VALUE; repeatable")
	fs.StringArrayVarP(&f.scripts, "script", "s", nil, "state script to include; repeatable")
	fs.BoolVar(&f.noBaseChecksum, "no-base-checksum", false, "do not make the artifact depend on rootfs-image.checksum of the base")
	fs.BoolVar(&f.delta, "delta", false, "write an lvm-um-delta artifact: only the chunks that differ from the base, as an Android sparse image (needs the lvm-um module on the device)")
	fs.StringVar(&f.imageOut, "image-out", "", "also keep the new image here")
	fs.StringVar(&f.report, "report", "", "write the JSON report here (also when refused)")
	fs.StringVar(&f.mapPath, "map", "", "write an SVG map of the write units, coloured by why each changed, here")
	fs.IntVar(&f.top, "top", generator.DefaultTop, "contributors to list in the report and on refusal")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no summary and no progress bars")
	return cmd
}

func (a *app) runGenerate(cmd *cobra.Command, f *generateFlags) error {
	for _, req := range []struct{ flag, val string }{
		{"--base", f.base}, {"--rootfs", f.rootfs}, {"-n/--artifact-name", f.name}, {"-o/--output-path", f.output},
	} {
		if req.val == "" {
			return usageErr("%s is required (see --help)", req.flag)
		}
	}
	if f.snapshot == 0 {
		return usageErr("--snapshot-size is required (see --help)")
	}
	if len(f.devices) == 0 {
		return usageErr("-t/--device-type is required (see --help)")
	}
	if err := checkTop(f.top); err != nil {
		return err
	}
	provides, err := keyValues("-p/--provides", f.provides)
	if err != nil {
		return err
	}
	depends, err := keyValues("-d/--depends", f.depends)
	if err != nil {
		return err
	}
	epoch, epochSet, err := a.sourceDateEpoch()
	if err != nil {
		return err
	}
	opts := &generator.Options{
		BasePath:        f.base,
		RootfsPath:      f.rootfs,
		BaseVerifyKey:   f.baseKey,
		MapPath:         f.mapPath,
		Geometry:        f.geometry,
		SnapshotBytes:   f.snapshot,
		ReserveBytes:    f.reserve,
		Top:             f.top,
		OutputPath:      f.output,
		ImageOut:        f.imageOut,
		ReportPath:      f.report,
		NoBaseChecksum:  f.noBaseChecksum,
		Delta:           f.delta,
		Progress:        a.progress(f.quiet),
		SourceDateEpoch: epochSet,
		Artifact: generator.ArtifactSpec{
			Name:            f.name,
			DeviceTypes:     f.devices,
			SoftwareVersion: f.version,
			Provides:        provides,
			Depends:         depends,
			Scripts:         f.scripts,
			Compression:     f.compression,
			Epoch:           epoch,
		},
	}
	if f.top == 0 {
		opts.Top = -1 // zero contributors, not the default
	}
	if f.key != "" {
		pem, err := os.ReadFile(f.key)
		if err != nil {
			return usageErr("-k %s: %v", f.key, err)
		}
		signer, err := generator.ParseSigningKey(pem)
		if err != nil {
			return usageErr("-k %s: %v", f.key, err)
		}
		opts.Artifact.Signer = signer
	}
	// An output streamed to standard output (-o -, --report /dev/stdout)
	// owns it: the summary goes to stderr instead.
	summary := a.stdout
	if _, ok := generator.WritesStdout(opts); ok {
		summary = a.stderr
	}
	r, err := generator.Generate(cmd.Context(), a.newBuilder(), opts)
	var refusal *generator.RefusalError
	if errors.As(err, &refusal) {
		if !f.quiet {
			if werr := generator.WriteSummary(summary, r); werr != nil {
				return werr
			}
		}
		return err // classify adds the contributors after the message
	}
	if err != nil {
		return err
	}
	if f.quiet {
		return nil
	}
	if err := generator.WriteSummary(summary, r); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
