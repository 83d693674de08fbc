package generator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/svgmap"
	"github.com/lvm-um-gen/lvm-um-gen/generator/basesource"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
	"github.com/mendersoftware/mender-artifact/artifact"
)

// Options describe one generate or estimate run.
type Options struct {
	// BasePath is the previous release: a raw ext4 image, or a .mender
	// artifact holding one (see basesource), which is extracted first.
	BasePath string
	// BaseVerifyKey, when set, is a PEM public key the base must be an
	// artifact signed with.
	BaseVerifyKey string
	RootfsPath    string
	Geometry      Geometry
	// SnapshotBytes is the snapshot's COW store size; 0 means unknown
	// (estimate only).
	SnapshotBytes int64
	ReserveBytes  int64 // runtime reserve; see DefaultReserve
	Top           int   // contributors in the report; 0 means DefaultTop; < 0 none
	// SourceDateEpoch is passed to the builder (nil: unset).
	SourceDateEpoch *int64

	// Generate only.
	OutputPath     string // the artifact
	ImageOut       string // keep the new image here; "" discards it
	ReportPath     string // write the JSON report here, also on refusal
	MapPath        string // write the SVG map of the units, coloured by why they changed, here (generate and estimate), also on refusal
	NoBaseChecksum bool   // do not make the artifact depend on the base's checksum
	Artifact       ArtifactSpec
	// Delta writes an lvm-um-delta artifact whose payload holds only the
	// chunks that differ from the base (an Android sparse image) instead
	// of an lvm-um artifact holding the whole image.
	Delta bool
	// NoChecksums (estimate only) skips the sha256 of the base and of the
	// new image, two whole passes of sha256 that only the JSON report
	// shows: the report's base_sha256 and image_sha256 are then empty.
	NoChecksums bool

	Progress Progress // nil for none
}

// validate checks the options and resolves the outputs.
func (o *Options) validate(generate bool) (*outputs, error) {
	if err := o.Geometry.Validate(); err != nil {
		return nil, &InputError{Input: "--write-unit/--chunk-size", Err: err}
	}
	if o.ReserveBytes < 0 {
		return nil, inputErr("--reserve", "must not be negative")
	}
	if err := checkRegular(o.BasePath); err != nil {
		return nil, &InputError{Input: "--base " + o.BasePath, Err: err}
	}
	if _, err := os.Stat(o.RootfsPath); err != nil {
		return nil, &InputError{Input: "--rootfs", Err: err}
	}
	if o.BaseVerifyKey != "" {
		if err := checkVerifyKey(o.BaseVerifyKey); err != nil {
			return nil, &InputError{Input: "--base-verify-key " + o.BaseVerifyKey, Err: err}
		}
	}
	if !generate {
		return checkOutputs(o)
	}
	if o.SnapshotBytes <= 0 {
		return nil, inputErr("--snapshot-size", "required")
	}
	if o.OutputPath == "" {
		return nil, inputErr("-o", "required")
	}
	if o.Delta && o.NoBaseChecksum {
		return nil, inputErr("--delta", "cannot be used with --no-base-checksum: a delta applies only over the exact base, so it always depends on its checksum")
	}
	if o.Artifact.Name == "" {
		return nil, inputErr("-n", "artifact name required")
	}
	if len(o.Artifact.DeviceTypes) == 0 {
		return nil, inputErr("-t", "at least one device type required")
	}
	outs, err := checkOutputs(o)
	if err != nil {
		return nil, err
	}
	if o.Artifact.Epoch < 0 || o.Artifact.Epoch > MaxEpoch {
		return nil, inputErr("SOURCE_DATE_EPOCH", "%d outside 0..%d", o.Artifact.Epoch, int64(MaxEpoch))
	}
	if err := CheckCompression(o.Artifact.Compression); err != nil {
		return nil, &InputError{Input: "--compression", Err: err}
	}
	for _, s := range o.Artifact.Scripts {
		if err := checkRegular(s); err != nil {
			return nil, &InputError{Input: "-s " + s, Err: err}
		}
	}
	if err := CheckScripts(o.Artifact.Scripts); err != nil {
		return nil, &InputError{Input: "-s", Err: err}
	}
	spec := o.Artifact
	if !o.NoBaseChecksum {
		spec.BaseChecksum = "(base)"
	}
	if _, err := spec.typeInfo(); err != nil {
		return nil, &InputError{Input: "-p/-d", Err: err}
	}
	return outs, nil
}

// outputs are the run's output paths, resolved (see output.go); nil
// for those not asked for.
type outputs struct {
	artifact, image, report, svg *output
}

// checkOutputs resolves every output and makes sure none replaces an
// input or another output.
func checkOutputs(o *Options) (*outputs, error) {
	type named struct{ flag, path string }
	inputs := []named{{"--base", o.BasePath}, {"--rootfs", o.RootfsPath}}
	for _, s := range o.Artifact.Scripts {
		inputs = append(inputs, named{"-s", s})
	}
	outs := &outputs{}
	var seen []*output
	for _, out := range []struct {
		flag, path string
		dst        **output
	}{{"-o", o.OutputPath, &outs.artifact}, {"--image-out", o.ImageOut, &outs.image}, {"--report", o.ReportPath, &outs.report}, {"--map", o.MapPath, &outs.svg}} {
		if out.path == "" {
			continue
		}
		r, err := resolveOutput(out.flag, out.path)
		if err != nil {
			return nil, &InputError{Input: out.flag + " " + out.path, Err: err}
		}
		for _, in := range inputs {
			if r.kind == outFile && (samePath(out.path, in.path) || samePath(r.target, in.path)) {
				return nil, inputErr(out.flag+" "+out.path, "same file as %s", in.flag)
			}
		}
		for _, other := range seen {
			if r.sameAs(other) {
				return nil, inputErr(out.flag+" "+out.path, "same file as %s", other.flag)
			}
		}
		seen = append(seen, r)
		*out.dst = r
	}
	return outs, nil
}

// WritesStdout reports which output of o, if any, goes to this process's
// standard output ("-", /dev/stdout, /proc/self/fd/1), so the caller
// keeps its own text off it. It names the flag.
func WritesStdout(o *Options) (string, bool) {
	for _, out := range []struct{ flag, path string }{{"-o", o.OutputPath}, {"--image-out", o.ImageOut}, {"--report", o.ReportPath}, {"--map", o.MapPath}} {
		if out.path == "" {
			continue
		}
		if r, err := resolveOutput(out.flag, out.path); err == nil && r.stdout() {
			return out.flag, true
		}
	}
	return "", false
}

// workParent is the directory the run's work directory goes in: next to
// the image output, which is renamed from there; else next to the
// artifact; else the temporary directory. Never inside a rootfs
// directory, whose read would then ship the work directory (and the
// change to the directory's mtime) in the image: the rootfs's parent
// takes it instead.
func workParent(rootfs string, outs *outputs) string {
	parent := os.TempDir()
	switch {
	case outs.image != nil && outs.image.kind == outFile:
		parent = filepath.Dir(outs.image.target)
	case outs.artifact != nil && outs.artifact.kind == outFile:
		parent = filepath.Dir(outs.artifact.target)
	}
	if fi, err := os.Stat(rootfs); err != nil || !fi.IsDir() {
		return parent
	}
	root, err1 := filepath.EvalSymlinks(rootfs)
	p, err2 := filepath.EvalSymlinks(parent)
	if err1 != nil || err2 != nil {
		return parent
	}
	root, _ = filepath.Abs(root)
	p, _ = filepath.Abs(p)
	if p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
		return filepath.Dir(root)
	}
	return parent
}

// samePath reports whether a and b name the same file: equal absolute
// paths, or (when both exist) the same inode.
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// checkVerifyKey reports whether path holds a public key mender-artifact
// can verify with.
func checkVerifyKey(path string) error {
	pem, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := artifact.NewPKIVerifier(pem); err != nil {
		return errors.New("not a PEM public key (RSA or ECDSA)")
	}
	return nil
}

func checkRegular(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}

// measured is a built image and what it costs.
type measured struct {
	report *Report
	image  string // the image file, "" when none was written
	img    Image  // the new image, open until the caller closes it
	m      *measurement
	// payload is the full artifact's compressed payload, made while the
	// image streamed (nil unless asked for); the caller removes it.
	payload *payloadWriter
}

// buildAndMeasure runs the builder and compares the result with the base.
// With withManifest it also hashes the base chunk by chunk for the base
// manifest. sinks, when not nil, are what the new image is written to
// while it streams (only generate has any: the full artifact's payload,
// --image-out).
func buildAndMeasure(ctx context.Context, b Builder, o *Options, dir string, withManifest bool, sinks *imageSinks) (*measured, error) {
	sums := !o.NoChecksums || withManifest
	basePath, cleanup, err := basesource.Resolve(o.BasePath, basesource.Options{TempDir: dir, VerifyKey: o.BaseVerifyKey})
	if err != nil {
		if errors.Is(err, basesource.ErrInvalid) {
			return nil, &InputError{Input: "--base " + o.BasePath, Err: err}
		}
		return nil, err
	}
	defer cleanup()
	var chunk int64
	if withManifest {
		chunk = o.Geometry.Resolved().ChunkSize
	}
	// The base's hashes are taken on the other core while this one checks
	// the base and the builder works.
	scan := startBaseScan(ctx, basePath, chunk, sums)
	defer scan.stop()
	if err := checkBase("--base "+o.BasePath, basePath); err != nil {
		return nil, err
	}
	resolved := *o
	resolved.BasePath = basePath
	o = &resolved
	work, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	res, err := b.Build(ctx, BuildRequest{BasePath: o.BasePath, RootfsPath: o.RootfsPath, WorkDir: work, Geometry: o.Geometry.Resolved(), SourceDateEpoch: o.SourceDateEpoch, Progress: o.Progress})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("build image: %w", err)
	}
	if res == nil || res.Image == nil {
		return nil, errors.New("build image: builder returned no image")
	}
	ok := false
	defer func() {
		if !ok {
			res.Image.Close()
		}
	}()
	var progress func(int64)
	if o.Progress != nil {
		// With a payload to compress, the image streams at the
		// compression's pace, which the bar then shows.
		label := "measuring"
		if sinks != nil && sinks.payload != nil {
			label = "compressing payload"
		}
		if sums || sinks != nil {
			o.Progress.Start(label, res.Image.Size())
			progress = o.Progress.Add
		} else {
			o.Progress.Start("measuring", -1)
		}
	}
	m, payload, err := measure(ctx, o.BasePath, res, o.Geometry, scan, sinks, sums, progress, withManifest)
	if o.Progress != nil {
		o.Progress.Finish()
	}
	if err != nil {
		var ie *InputError
		switch {
		case errors.Is(err, ErrSizeMismatch):
			return nil, fmt.Errorf("built image: %w", err)
		case errors.As(err, &ie), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), isBuiltError(err):
			return nil, err
		}
		return nil, fmt.Errorf("compare images: %w", err)
	}
	top := o.Top
	if top == 0 {
		top = DefaultTop
	}
	path := ""
	if sinks != nil && sinks.file != nil {
		path = sinks.file.path
	}
	ok = true
	return &measured{report: newReport(m, res.Files, top, o.SnapshotBytes, o.ReserveBytes), image: path, img: res.Image, m: m, payload: payload}, nil
}

// Estimate builds the new image in a temporary directory, measures it and
// throws it away. The report's Fits is nil when no snapshot size is given.
func Estimate(ctx context.Context, b Builder, o *Options) (_ *Report, err error) {
	defer func() { err = explainNoSpace(err) }()
	outs, err := o.validate(false)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(workParent(o.RootfsPath, outs), "lvm-um-gen-estimate-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)
	m, err := buildAndMeasure(ctx, b, o, dir, false, nil)
	if err != nil {
		return nil, err
	}
	defer m.img.Close()
	if err := publishSidecars(ctx, outs, m, dir); err != nil {
		return nil, err
	}
	return m.report, nil
}

// Generate builds the new image, measures it and, if it fits the snapshot,
// writes the artifact (and the image and report when asked). Outputs
// appear only when everything succeeded, the artifact last; on refusal
// only the report and map are written and a *RefusalError is returned
// with it. On cancellation or any error, nothing is left behind.
func Generate(ctx context.Context, b Builder, o *Options) (_ *Report, err error) {
	defer func() { err = explainNoSpace(err) }()
	outs, err := o.validate(true)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(workParent(o.RootfsPath, outs), ".lvm-um-gen-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	defer os.RemoveAll(dir)

	// While the new image is measured, a full artifact's payload is
	// compressed from it (so it is read once, and never written whole
	// unless kept), and it is written to a file when it is kept (durably,
	// as it is then published). On refusal the compression was wasted.
	var sinks *imageSinks
	if !o.Delta || outs.image != nil {
		sinks = &imageSinks{}
	}
	if outs.image != nil {
		sinks.file = &imageFile{path: filepath.Join(dir, PayloadName), sync: true}
	}
	if !o.Delta {
		spec := o.Artifact
		sinks.payload = func(size int64) (*payloadWriter, error) {
			return newPayloadWriter(ctx, dir, &spec, payloadHeader(PayloadName, size), false)
		}
	}
	m, err := buildAndMeasure(ctx, b, o, dir, true, sinks)
	if err != nil {
		return nil, err
	}
	defer m.img.Close()
	defer m.payload.remove()
	r := m.report
	r.ArtifactName = o.Artifact.Name
	r.SoftwareVersion = o.Artifact.SoftwareVersion
	if r.SoftwareVersion == "" {
		r.SoftwareVersion = o.Artifact.Name
	}
	if !*r.Fits {
		if err := publishSidecars(ctx, outs, m, dir); err != nil {
			return r, err
		}
		return r, &RefusalError{Report: r}
	}

	spec := o.Artifact
	spec.ImageChecksum = r.ImageSHA256
	spec.BaseChecksum = r.BaseSHA256
	if o.NoBaseChecksum {
		spec.BaseChecksum = ""
	}
	encoded, err := m.m.manifest.Encode()
	if err != nil {
		return nil, err
	}
	r.ManifestBytes = int64(len(encoded))
	spec.MetaData = metaData(r, encoded)
	payload := m.payload
	r.PayloadType, r.PayloadBytes = UpdateModule, r.ImageBytes
	if o.Delta {
		spec.PayloadType = DeltaModule
		path := filepath.Join(dir, DeltaPayloadName)
		if r.PayloadBytes, err = writeDelta(ctx, m.img, m.m.manifest, path); err != nil {
			return nil, err
		}
		if err := os.Chmod(path, outputMode); err != nil {
			return nil, err
		}
		if payload, err = payloadFromFile(ctx, dir, &spec, path, o.Progress); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("artifact: %w", err)
		}
		defer payload.remove()
		r.PayloadType = DeltaModule
	}
	if m.image != "" {
		epoch := time.Unix(spec.Epoch, 0)
		if err := os.Chtimes(m.image, epoch, epoch); err != nil {
			return nil, err
		}
	}

	art, err := createTempOutput(outs.artifact, dir)
	if err != nil {
		return nil, &InputError{Input: "-o " + o.OutputPath, Err: err}
	}
	defer art.remove()
	if o.Progress != nil {
		o.Progress.Start("writing artifact", -1)
	}
	err = writeArtifact(ctx, art, &spec, payload)
	if o.Progress != nil {
		o.Progress.Finish()
	}
	if err != nil {
		return nil, err
	}
	size, err := art.finish()
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", o.OutputPath, err)
	}
	r.ArtifactPath, r.ArtifactBytes = o.OutputPath, size
	var stages []staged
	defer func() { discard(stages) }()
	if outs.image != nil {
		r.ImagePath = o.ImageOut
		st, err := stageFile(outs.image, m.image, dir)
		if err != nil {
			return nil, fmt.Errorf("write image %s: %w", o.ImageOut, err)
		}
		stages = append(stages, st)
	}
	side, err := stageSidecars(outs, m, dir)
	stages = append(stages, side...)
	if err != nil {
		return nil, err
	}
	// The artifact goes last: a crash between two steps must never leave
	// an artifact without the report and image that go with it.
	stages = append(stages, staged{out: outs.artifact, tmp: art.name()})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := publish(stages); err != nil {
		return nil, err
	}
	stages = nil
	return r, nil
}

// publishSidecars writes the report and the unit map (those asked for),
// both or neither.
func publishSidecars(ctx context.Context, outs *outputs, m *measured, dir string) error {
	stages, err := stageSidecars(outs, m, dir)
	defer discard(stages)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return publish(stages)
}

// stageSidecars stages the report and the map (those asked for).
func stageSidecars(outs *outputs, m *measured, dir string) ([]staged, error) {
	var stages []staged
	if outs.report != nil {
		data, err := MarshalReport(m.report)
		if err != nil {
			return stages, err
		}
		st, err := stageBytes(outs.report, data, dir)
		if err != nil {
			return stages, fmt.Errorf("write report %s: %w", outs.report.path, err)
		}
		stages = append(stages, st)
	}
	if outs.svg != nil {
		var buf bytes.Buffer
		if err := svgmap.Write(&buf, m.m.model, m.m.mapUnits()); err != nil {
			return stages, err
		}
		st, err := stageBytes(outs.svg, buf.Bytes(), dir)
		if err != nil {
			return stages, fmt.Errorf("write map %s: %w", outs.svg.path, err)
		}
		stages = append(stages, st)
	}
	return stages, nil
}

// metaData is the artifact's meta-data: the flat keys and the encoded
// base manifest (generator/manifest).
func metaData(r *Report, encodedManifest string) map[string]any {
	return map[string]any{
		manifest.MetaKey:  encodedManifest,
		MetaPredictedCOW:  r.PredictedCOWBytes,
		MetaWriteUnit:     r.WriteUnitBytes,
		MetaChunk:         r.ChunkBytes,
		MetaSnapshot:      r.SnapshotBytes,
		MetaReserve:       r.ReserveBytes,
		MetaBaseSHA256:    r.BaseSHA256,
		MetaImageBytes:    r.ImageBytes,
		MetaUnitsChanged:  r.UnitsChanged,
		MetaChunksChanged: r.ChunksChanged,
	}
}
