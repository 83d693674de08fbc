package blockmap

import (
	"fmt"
)

// ChangedChunk is a chunk a release changes and the ChunkHash of its new
// content.
type ChangedChunk struct {
	Index int64
	Hash  ChunkHash
}

// DeviceCost is what writing a release costs on one device, from chunk
// hashes: the base's, the release's changed chunks, and the device's own.
// With a write unit smaller than the chunk the hashes cannot tell which
// units of a differing chunk differ, so UnitsChanged and BytesWritten
// count every unit of it; the chunks and the COW, which are per chunk,
// stay exact.
type DeviceCost struct {
	// Result is what this device will write: every write unit holding a
	// chunk whose bytes on the device differ from the new image's.
	Result Result
	// Release is the same on a device that holds the base exactly. It is
	// the generator's predicted_cow_bytes (ReleaseCost), by construction.
	Release Result
	// DriftedChunks counts the chunks where the device differs from the
	// base.
	DriftedChunks int64
	// DriftCOWBytes is Result.COWBytes - Release.COWBytes: what drift
	// adds (negative only if the device already holds some of the new
	// content).
	DriftCOWBytes int64
	// DriftedUnchanged lists, ascending, the drifted chunks the release
	// does not change. A delta, which leaves them alone, would keep the
	// device's bytes there instead of the base's: it can only be applied
	// when this is empty.
	DriftedUnchanged []int64
}

// checkChunkHashes checks that base, changed (and device, if not nil)
// fit the model: one hash per chunk, changed indexes ascending, distinct
// and inside the image.
func (m Model) checkChunkHashes(base []ChunkHash, changed []ChangedChunk, device []ChunkHash) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if int64(len(base)) != m.Chunks() {
		return fmt.Errorf("blockmap: %d base chunk hashes for an image of %d chunks", len(base), m.Chunks())
	}
	if device != nil && int64(len(device)) != m.Chunks() {
		return fmt.Errorf("blockmap: %d device chunk hashes for an image of %d chunks", len(device), m.Chunks())
	}
	prev := int64(-1)
	for _, c := range changed {
		if c.Index <= prev || c.Index >= m.Chunks() {
			return fmt.Errorf("blockmap: changed chunk %d after %d in an image of %d chunks: not ascending or out of range",
				c.Index, prev, m.Chunks())
		}
		prev = c.Index
	}
	return nil
}

// ReleaseCost is the cost of writing the release over an image that
// holds the base exactly: every unit holding a changed chunk. It is
// DeviceCost's Release, and what the generator reports as predicted COW.
func (m Model) ReleaseCost(base []ChunkHash, changed []ChangedChunk) (Result, error) {
	if err := m.checkChunkHashes(base, changed, nil); err != nil {
		return Result{}, err
	}
	return m.releaseCost(changed), nil
}

func (m Model) releaseCost(changed []ChangedChunk) Result {
	var units []int64
	for _, c := range changed {
		units = m.appendUnitsOfChunk(units, c.Index)
	}
	return m.estimateSorted(units)
}

// appendUnitsOfChunk appends the units chunk c overlaps that are not
// already at the end of units (chunks come in ascending order).
func (m Model) appendUnitsOfChunk(units []int64, c int64) []int64 {
	off := c * m.Chunk
	first, last, _ := m.UnitsOf(off, min(m.Chunk, m.ImageSize-off))
	if k := len(units) - 1; k >= 0 && units[k] >= first {
		first = units[k] + 1
	}
	for u := first; u <= last; u++ {
		units = append(units, u)
	}
	return units
}

// CostOnDevice is the exact cost of writing the release on a device whose
// current chunk hashes are device (len = m.Chunks()): the device writes
// every unit holding a chunk where it differs from the new image (the
// base's hash unless changed lists the chunk). base holds the base's
// hashes, changed the release's changed chunks in ascending order; m's
// chunk is the hashes' chunk.
func (m Model) CostOnDevice(base []ChunkHash, changed []ChangedChunk, device []ChunkHash) (DeviceCost, error) {
	if device == nil {
		device = []ChunkHash{}
	}
	if err := m.checkChunkHashes(base, changed, device); err != nil {
		return DeviceCost{}, err
	}
	dc := DeviceCost{Release: m.releaseCost(changed)}
	var units []int64
	k := 0 // next entry of changed
	for c := int64(0); c < int64(len(base)); c++ {
		want := base[c]
		isChanged := k < len(changed) && changed[k].Index == c
		if isChanged {
			want = changed[k].Hash
			k++
		}
		if device[c] != base[c] {
			dc.DriftedChunks++
			if !isChanged {
				dc.DriftedUnchanged = append(dc.DriftedUnchanged, c)
			}
		}
		if device[c] != want {
			units = m.appendUnitsOfChunk(units, c)
		}
	}
	dc.Result = m.estimateSorted(units)
	dc.DriftCOWBytes = dc.Result.COWBytes - dc.Release.COWBytes
	return dc, nil
}
