package generator

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
)

// ReportSchema is the version of the JSON report's layout. It changes only
// when a field changes meaning or is removed; new fields may appear.
// Schema 2 replaced the contributor rows (path, kind, units) by the
// attribution's (name, kind, blocks, units, sole_units, unit_share) and
// added the lower bound and the reasons.
const ReportSchema = 2

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
//   - lower_bound: what no placement of this release can beat, under the
//     same W and C (blockmap/bound's package doc defines it exactly):
//     {units, data_units, metadata_units, new_data_blocks, metadata_blocks,
//     chunks_changed, cow_bytes}. units = metadata_units + data_units:
//     the units holding metadata that must change, plus the units the new
//     data (blocks the base holds nowhere) needs when packed perfectly.
//   - block_bytes, blocks_changed: the filesystem's block size and the
//     blocks that differ.
//   - reasons: why blocks changed, one row per reason present, in a fixed
//     order (file data, directory, extent tree, xattr block, inode table,
//     block bitmap, inode bitmap, group descriptors, superblock, other):
//     [{reason, blocks, units}]; units counts the write units holding a
//     changed block of that reason (a unit may count for several).
//   - top_contributors: who changed the units, most first:
//     [{name, kind, blocks, units, sole_units, unit_share}]. kind "path"
//     is a rootfs path (name "/usr/lib/libc.so.6") charged with the blocks
//     its data, directory entries, extent tree, xattr block and inode
//     wrote; kind "metadata" is filesystem metadata no path was charged
//     with (name "block bitmap", "inode bitmap", "group descriptors",
//     "superblock", "inode table", "other"). units counts every unit it
//     holds a changed block in, sole_units those only it changed (what
//     leaving it out would surely save), unit_share the units with each
//     shared one split among its contributors by the changed blocks each
//     has in it (the shares of all contributors add up to units_changed;
//     rows are ranked by it), blocks the changed blocks charged to it.
//     With a write unit smaller than a block, reasons and contributors
//     count every unit of a changed block, even one whose bytes are equal
//     (units_changed and the map count only units that differ).
//   - base_sha256, image_sha256: hex sha256 of the base and the new image.
//   - files: {added, changed, removed, unchanged} path counts.
//   - artifact_name, software_version: as written into the artifact.
//   - artifact_path, artifact_bytes: the artifact written; omitted when none
//     was (refusal, estimate).
//   - payload_type, payload_bytes: the artifact's payload type, lvm-um (the
//     whole image) or lvm-um-delta (--delta: an Android sparse image of the
//     changed chunks), and the payload file's size before compression;
//     omitted when no artifact was written.
//   - manifest_bytes: size of the encoded base manifest in the artifact's
//     meta-data (generator/manifest); omitted when no artifact was written.
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
	LowerBound        LowerBound    `json:"lower_bound"`
	BlockBytes        int64         `json:"block_bytes"`
	BlocksChanged     int64         `json:"blocks_changed"`
	Reasons           []Reason      `json:"reasons"`
	TopContributors   []Contributor `json:"top_contributors"`
	BaseSHA256        string        `json:"base_sha256"`
	ImageSHA256       string        `json:"image_sha256"`
	Files             FileCounts    `json:"files"`
	ArtifactName      string        `json:"artifact_name,omitempty"`
	SoftwareVersion   string        `json:"software_version,omitempty"`
	ArtifactPath      string        `json:"artifact_path,omitempty"`
	ArtifactBytes     int64         `json:"artifact_bytes,omitempty"`
	PayloadType       string        `json:"payload_type,omitempty"`
	PayloadBytes      int64         `json:"payload_bytes,omitempty"`
	ManifestBytes     int64         `json:"manifest_bytes,omitempty"`
	ImagePath         string        `json:"image_path,omitempty"`
}

// LowerBound is the report's lower_bound.
type LowerBound struct {
	Units          int64 `json:"units"`
	DataUnits      int64 `json:"data_units"`
	MetadataUnits  int64 `json:"metadata_units"`
	NewDataBlocks  int64 `json:"new_data_blocks"`
	MetadataBlocks int64 `json:"metadata_blocks"`
	ChunksChanged  int64 `json:"chunks_changed"`
	COWBytes       int64 `json:"cow_bytes"`
}

// Reason is one row of the report's reasons.
type Reason struct {
	Reason string `json:"reason"`
	Blocks int64  `json:"blocks"`
	Units  int64  `json:"units"`
}

// Contributor is one row of the report's top_contributors.
type Contributor struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	Blocks    int64   `json:"blocks"`
	Units     int64   `json:"units"`
	SoleUnits int64   `json:"sole_units"`
	UnitShare float64 `json:"unit_share"`
}

// newReport fills the measured part of a report, with the first top
// contributors. snapshot 0 means unknown.
func newReport(m *measurement, files FileCounts, top int, snapshot, reserve int64) *Report {
	d, a, lb := m.diff, m.attribution, m.bound
	n := max(0, min(top, len(a.Contributors)))
	r := &Report{
		Schema:            ReportSchema,
		PredictedCOWBytes: d.COWBytes,
		ReserveBytes:      reserve,
		NeededBytes:       d.COWBytes + reserve,
		SnapshotBytes:     snapshot,
		WriteUnitBytes:    d.WriteUnit,
		ChunkBytes:        d.Chunk,
		ImageBytes:        d.ImageSize,
		UnitsTotal:        d.Units,
		UnitsChanged:      d.UnitsChanged,
		ChunksChanged:     d.ChunksWritten,
		LowerBound:        lowerBound(lb),
		BlockBytes:        int64(a.BlockSize),
		BlocksChanged:     a.BlocksChanged,
		Reasons:           make([]Reason, 0, len(a.Categories)),
		TopContributors:   make([]Contributor, 0, n),
		BaseSHA256:        d.OldSHA256,
		ImageSHA256:       d.NewSHA256,
		Files:             files,
	}
	for _, c := range a.Categories {
		r.Reasons = append(r.Reasons, Reason{Reason: string(c.Category), Blocks: c.Blocks, Units: c.Units})
	}
	for _, c := range a.Contributors[:n] {
		r.TopContributors = append(r.TopContributors, Contributor{Name: c.Name, Kind: c.Kind, Blocks: c.Blocks,
			Units: c.Units, SoleUnits: c.SoleUnits, UnitShare: c.Share})
	}
	if snapshot > 0 {
		fits := r.NeededBytes <= snapshot
		r.Fits = &fits
		r.HeadroomBytes = snapshot - r.NeededBytes
	}
	return r
}

func lowerBound(b bound.Bound) LowerBound {
	return LowerBound{Units: b.Units, DataUnits: b.DataUnits, MetadataUnits: b.MetaUnits, NewDataBlocks: b.DataBlocks,
		MetadataBlocks: b.MetaBlocks, ChunksChanged: b.ChunksWritten, COWBytes: b.COWBytes}
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

// WriteSummary prints the short human summary: the change, the predicted
// COW next to the lower bound, and whether it fits.
func WriteSummary(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("files:         %d added, %d changed, %d removed, %d unchanged\n",
		r.Files.Added, r.Files.Changed, r.Files.Removed, r.Files.Unchanged)
	ew.printf("write units:   %d of %d changed (%s each)\n", r.UnitsChanged, r.UnitsTotal, HumanSize(r.WriteUnitBytes))
	ew.printf("chunks:        %d changed (%s each)\n", r.ChunksChanged, HumanSize(r.ChunkBytes))
	ew.printf("predicted COW: %s\n", FormatSize(r.PredictedCOWBytes))
	ew.printf("lower bound:   %s\n", boundLine(r))
	ew.printf("reserve:       %s\n", FormatSize(r.ReserveBytes))
	if r.Fits != nil {
		ew.printf("snapshot:      %s\n", FormatSize(r.SnapshotBytes))
		ew.printf("headroom:      %s\n", FormatSize(r.HeadroomBytes))
	} else {
		ew.printf("snapshot:      not given (needs at least %s)\n", FormatSize(r.NeededBytes))
	}
	if r.ArtifactPath != "" {
		ew.printf("artifact:      %s, %s (%s, payload %s before compression)\n", r.ArtifactPath, FormatSize(r.ArtifactBytes),
			r.PayloadType, HumanSize(r.PayloadBytes))
	}
	if r.ImagePath != "" {
		ew.printf("image:         %s\n", r.ImagePath)
	}
	return ew.err
}

// boundLine is the lower bound next to the achieved figure.
func boundLine(r *Report) string {
	lb := r.LowerBound
	if lb.Units == 0 {
		return fmt.Sprintf("0 units, %s COW: nothing has to change", HumanSize(lb.COWBytes))
	}
	return fmt.Sprintf("%s, %s COW (%d of new data, %d of metadata that must change); predicted is %.1fx its units",
		units(lb.Units), HumanSize(lb.COWBytes), lb.DataUnits, lb.MetadataUnits, float64(r.UnitsChanged)/float64(lb.Units))
}

// units counts write units in words.
func units(n int64) string {
	if n == 1 {
		return "1 unit"
	}
	return fmt.Sprintf("%d units", n)
}

// WriteBreakdown prints why blocks changed and who changed them: one row
// per reason, then the top contributors, paths and metadata alike.
func WriteBreakdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	if len(r.Reasons) > 0 {
		ew.printf("changed blocks by reason (%s blocks, write units of %s):\n", HumanSize(r.BlockBytes), HumanSize(r.WriteUnitBytes))
		ew.printf("  %8s  %6s  %s\n", "blocks", "units", "reason")
		for _, x := range r.Reasons {
			ew.printf("  %8d  %6d  %s\n", x.Blocks, x.Units, x.Reason)
		}
	}
	if len(r.TopContributors) > 0 {
		ew.printf("top contributors (share: units changed, each split by the blocks its contributors changed in it;\n")
		ew.printf("units: units it changed a block in; sole: units only it changed):\n")
		ew.printf("  %7s  %6s  %6s  %8s  %-8s  %s\n", "share", "units", "sole", "blocks", "kind", "name")
		for _, x := range r.TopContributors {
			ew.printf("  %7.2f  %6d  %6d  %8d  %-8s  %s\n", x.UnitShare, x.Units, x.SoleUnits, x.Blocks, x.Kind, x.Name)
		}
	}
	return ew.err
}

// WriteRefusalDetail explains a refusal after its one-line message:
// whether even the lower bound overflows the snapshot, then the
// breakdown.
func WriteRefusalDetail(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	lb := r.LowerBound
	if need := lb.COWBytes + r.ReserveBytes; need > r.SnapshotBytes {
		ew.printf("even the lower bound needs %s (%s COW + reserve %s): this release cannot fit this snapshot in place\n",
			HumanSize(need), HumanSize(lb.COWBytes), HumanSize(r.ReserveBytes))
	} else {
		ew.printf("the lower bound, %s COW (%s), would fit: the rest is what this placement costs beyond it\n", HumanSize(lb.COWBytes), units(lb.Units))
	}
	if ew.err == nil {
		ew.err = WriteBreakdown(ew, r)
	}
	return ew.err
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
