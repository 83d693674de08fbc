package generator

import (
	"encoding/json"
	"fmt"
	"io"
)

// ReportSchema is the version of the JSON report's layout. It changes only
// when a field changes meaning or is removed; new fields may appear.
const ReportSchema = 1

// DefaultTop is how many contributors a report lists by default.
const DefaultTop = 10

// Report is the outcome of a generate or estimate run: the JSON written by
// --report and --json, and the source of the human summary. Fields, in
// their JSON names:
//
//   - schema: ReportSchema.
//   - fits: predicted_cow_bytes + reserve_bytes <= snapshot_bytes; null when
//     no snapshot size was given (estimate only).
//   - predicted_cow_bytes: exception-store bytes the device will use after
//     writing the image, (2 + N + floor(N/(C/16))) * C with N = chunks_changed.
//   - reserve_bytes: runtime reserve assumed on top of that.
//   - needed_bytes: predicted_cow_bytes + reserve_bytes.
//   - snapshot_bytes: the snapshot's COW store size (0 when not given).
//   - headroom_bytes: snapshot_bytes - needed_bytes; negative when over.
//   - write_unit_bytes, chunk_bytes: the geometry W and C.
//   - image_bytes: size of the base and of the new image.
//   - units_total, units_changed: write units in the image and those that differ.
//   - chunks_changed: N, distinct snapshot chunks that receive a write.
//   - base_sha256, image_sha256: hex sha256 of the base and the new image.
//   - files: {added, changed, removed, unchanged} path counts.
//   - top_contributors: [{path, kind, units}], most write units first.
//   - artifact_name, software_version: as written into the artifact.
//   - artifact_path, artifact_bytes: the artifact written; omitted when none
//     was (refusal, estimate).
//   - image_path: the new image kept by --image-out; omitted when not kept.
type Report struct {
	Schema            int           `json:"schema"`
	Fits              *bool         `json:"fits"`
	PredictedCOWBytes int64         `json:"predicted_cow_bytes"`
	ReserveBytes      int64         `json:"reserve_bytes"`
	NeededBytes       int64         `json:"needed_bytes"`
	SnapshotBytes     int64         `json:"snapshot_bytes"`
	HeadroomBytes     int64         `json:"headroom_bytes"`
	WriteUnitBytes    int64         `json:"write_unit_bytes"`
	ChunkBytes        int64         `json:"chunk_bytes"`
	ImageBytes        int64         `json:"image_bytes"`
	UnitsTotal        int64         `json:"units_total"`
	UnitsChanged      int64         `json:"units_changed"`
	ChunksChanged     int64         `json:"chunks_changed"`
	BaseSHA256        string        `json:"base_sha256"`
	ImageSHA256       string        `json:"image_sha256"`
	Files             FileCounts    `json:"files"`
	TopContributors   []Contributor `json:"top_contributors"`
	ArtifactName      string        `json:"artifact_name,omitempty"`
	SoftwareVersion   string        `json:"software_version,omitempty"`
	ArtifactPath      string        `json:"artifact_path,omitempty"`
	ArtifactBytes     int64         `json:"artifact_bytes,omitempty"`
	ImagePath         string        `json:"image_path,omitempty"`
}

// NewReport fills the measured part of a report. snapshot 0 means unknown.
func NewReport(d *Diff, files FileCounts, contributors []Contributor, top int, snapshot, reserve int64) *Report {
	r := &Report{
		Schema:            ReportSchema,
		PredictedCOWBytes: d.COWBytes,
		ReserveBytes:      reserve,
		NeededBytes:       d.COWBytes + reserve,
		SnapshotBytes:     snapshot,
		WriteUnitBytes:    d.WriteUnit,
		ChunkBytes:        d.ChunkSize,
		ImageBytes:        d.ImageBytes,
		UnitsTotal:        (d.ImageBytes + d.WriteUnit - 1) / d.WriteUnit,
		UnitsChanged:      d.UnitsChanged,
		ChunksChanged:     d.ChunksChanged,
		BaseSHA256:        d.OldSHA256,
		ImageSHA256:       d.NewSHA256,
		Files:             files,
		TopContributors:   topContributors(contributors, top),
	}
	if snapshot > 0 {
		fits := r.NeededBytes <= snapshot
		r.Fits = &fits
		r.HeadroomBytes = snapshot - r.NeededBytes
	}
	return r
}

// topContributors returns the first n contributors, never nil so the JSON
// has [] rather than null.
func topContributors(c []Contributor, n int) []Contributor {
	if n < 0 {
		n = 0
	}
	out := make([]Contributor, 0, min(n, len(c)))
	return append(out, c[:min(n, len(c))]...)
}

// MarshalReport renders the report as indented JSON with a final newline;
// the same report always gives the same bytes.
func MarshalReport(r *Report) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteSummary prints the short human summary.
func WriteSummary(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("files:        %d added, %d changed, %d removed, %d unchanged\n",
		r.Files.Added, r.Files.Changed, r.Files.Removed, r.Files.Unchanged)
	ew.printf("write units:  %d of %d changed (%s each)\n", r.UnitsChanged, r.UnitsTotal, HumanSize(r.WriteUnitBytes))
	ew.printf("chunks:       %d changed (%s each)\n", r.ChunksChanged, HumanSize(r.ChunkBytes))
	ew.printf("predicted COW: %s\n", FormatSize(r.PredictedCOWBytes))
	ew.printf("reserve:      %s\n", FormatSize(r.ReserveBytes))
	if r.Fits != nil {
		ew.printf("snapshot:     %s\n", FormatSize(r.SnapshotBytes))
		ew.printf("headroom:     %s\n", FormatSize(r.HeadroomBytes))
	} else {
		ew.printf("snapshot:     not given (needs at least %s)\n", FormatSize(r.NeededBytes))
	}
	if r.ArtifactPath != "" {
		ew.printf("artifact:     %s, %s\n", r.ArtifactPath, FormatSize(r.ArtifactBytes))
	}
	if r.ImagePath != "" {
		ew.printf("image:        %s\n", r.ImagePath)
	}
	return ew.err
}

// WriteRefusal explains why a release does not fit: needed against
// available, by how much it is over, and what costs the most.
func WriteRefusal(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("release does not fit the snapshot: needs %s (predicted COW %s + reserve %s), snapshot has %s: over by %s\n",
		FormatSize(r.NeededBytes), FormatSize(r.PredictedCOWBytes), FormatSize(r.ReserveBytes),
		FormatSize(r.SnapshotBytes), FormatSize(-r.HeadroomBytes))
	WriteContributors(ew, r.TopContributors, r.WriteUnitBytes)
	return ew.err
}

// WriteContributors lists what costs the most write units.
func WriteContributors(w io.Writer, c []Contributor, writeUnit int64) {
	if len(c) == 0 {
		return
	}
	fmt.Fprintf(w, "top contributors (write units of %s):\n", HumanSize(writeUnit))
	for _, x := range c {
		fmt.Fprintf(w, "  %6d  %-8s  %s\n", x.Units, x.Kind, x.Path)
	}
}

// errWriter keeps the first write error so printing code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) {
	fmt.Fprintf(e, format, a...)
}
