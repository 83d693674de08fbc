package blockmap

import (
	"fmt"
	"slices"
)

// Result is the predicted cost of writing a set of changed units over a
// snapshot of the image, per the formula in cow-model.md:
//
//	N            = distinct chunks written
//	chunks used  = 2 + N + floor(N / (C/16))
//	COW bytes    = chunks used * C
//	metadata     = (2 + floor(N / (C/16))) * C
type Result struct {
	WriteUnit int64 `json:"write_unit"`
	Chunk     int64 `json:"chunk"`
	ImageSize int64 `json:"image_size"`
	// Units is the number of write units tiling the image.
	Units int64 `json:"units"`
	// UnitsChanged is the number of units the update module writes.
	UnitsChanged int64 `json:"units_changed"`
	// BytesWritten is the sum of the changed units' lengths.
	BytesWritten int64 `json:"bytes_written"`
	// ChunksWritten is N, the distinct chunks that receive a write.
	ChunksWritten int64 `json:"chunks_written"`
	// ChunksUsed is 2 + N + floor(N/E): everything the exception store holds.
	ChunksUsed int64 `json:"chunks_used"`
	// COWBytes is the predicted use of the snapshot store, ChunksUsed * C.
	COWBytes int64 `json:"cow_bytes"`
	// MetadataBytes is the header, first metadata area and metadata chunks.
	MetadataBytes int64 `json:"metadata_bytes"`
	// SectorsAllocated and MetadataSectors are what `dmsetup status`
	// reports after the write.
	SectorsAllocated int64 `json:"sectors_allocated"`
	MetadataSectors  int64 `json:"metadata_sectors"`
}

// Fits reports whether a snapshot store of storeBytes holds the release
// plus a runtime reserve of reserveBytes.
func (r Result) Fits(storeBytes, reserveBytes int64) bool {
	return r.COWBytes+reserveBytes <= storeBytes
}

// COWBytes is the exception store use after n distinct chunks are written.
// It is zero for a model whose chunk is too small to hold an exception.
func (m Model) COWBytes(n int64) int64 {
	e := m.ExceptionsPerChunk()
	if e <= 0 {
		return 0
	}
	return (headerChunks + n + n/e) * m.Chunk
}

// Estimate returns the cost of writing the given units (in any order;
// duplicates count once). It fails for an invalid model or a unit outside
// the image.
func (m Model) Estimate(units []int64) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	sorted := slices.Clone(units)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for _, u := range sorted {
		if err := m.checkUnit(u); err != nil {
			return Result{}, err
		}
	}
	return m.estimateSorted(sorted), nil
}

// estimateSorted is Estimate for valid, ascending, distinct units.
func (m Model) estimateSorted(units []int64) Result {
	var written, n int64
	next := int64(0) // first chunk not yet counted
	for _, u := range units {
		_, ln := m.UnitSpan(u)
		written += ln
		first, last := m.chunksOfUnit(u)
		first = max(first, next)
		if last >= first {
			n += last - first + 1
			next = last + 1
		}
	}
	return m.result(int64(len(units)), written, n)
}

// result fills a Result for the given counts.
func (m Model) result(units, written, n int64) Result {
	meta := headerChunks + n/m.ExceptionsPerChunk()
	used := meta + n
	return Result{
		WriteUnit:        m.WriteUnit,
		Chunk:            m.Chunk,
		ImageSize:        m.ImageSize,
		Units:            m.Units(),
		UnitsChanged:     units,
		BytesWritten:     written,
		ChunksWritten:    n,
		ChunksUsed:       used,
		COWBytes:         used * m.Chunk,
		MetadataBytes:    meta * m.Chunk,
		SectorsAllocated: used * m.Chunk / SectorSize,
		MetadataSectors:  meta * m.Chunk / SectorSize,
	}
}

// String summarises the result in one line.
func (r Result) String() string {
	return fmt.Sprintf("%d of %d units changed (%d bytes), %d chunks written, %d COW bytes (%d metadata)",
		r.UnitsChanged, r.Units, r.BytesWritten, r.ChunksWritten, r.COWBytes, r.MetadataBytes)
}
