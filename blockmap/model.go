// Package blockmap maps an image onto the two grids that decide what an
// update costs on the device: write units (W bytes, the granularity at which
// the update module compares and writes) and snapshot chunks (C bytes, the
// granularity at which dm-snapshot copies on write). It predicts the exact
// bytes the snapshot's exception store will use (see
// /work/shared/design/cow-model.md) and tracks which units are already
// dirty, so a placement policy can ask what a write would cost.
package blockmap

import (
	"errors"
	"fmt"
)

const (
	// SectorSize is the unit dmsetup status reports in.
	SectorSize = 512
	// MinChunk and MaxChunk bound the dm-snapshot chunk sizes LVM accepts.
	MinChunk = 4 << 10
	MaxChunk = 512 << 10
	// exceptionSize is the size of one on-disk exception record of a
	// persistent dm-snapshot (old chunk, new chunk: two little-endian u64),
	// so a metadata chunk of C bytes holds C/16 exceptions.
	exceptionSize = 16
	// headerChunks is the store's fixed overhead: the header chunk and the
	// first metadata area.
	headerChunks = 2
	// MaxWriteUnit bounds the write unit W: 64 times lvm-um's 1 MiB.
	// Nothing the generator keeps grows with W (placement indexes units
	// by their free blocks only for the counts in use), but a device
	// compares and writes W bytes at a time, and a unit larger than the
	// snapshot store can take only overflows it.
	MaxWriteUnit = 64 << 20
	// MaxUnits bounds the units (and chunks) of an image, so that the
	// bitsets tracking them stay small (256 MiB at most).
	MaxUnits = 1 << 31
)

// Model holds the parameters of the cost model. WriteUnit (W) and Chunk (C)
// are in bytes; ImageSize is the size of the image the units and chunks
// tile (the last unit and the last chunk may be shorter).
type Model struct {
	WriteUnit int64 `json:"write_unit"`
	Chunk     int64 `json:"chunk"`
	ImageSize int64 `json:"image_size"`
}

// Validate reports whether the model's parameters are usable: W from 1
// byte to MaxWriteUnit, C a power of two between 4 KiB and 512 KiB, the
// image size not negative.
func (m Model) Validate() error {
	if m.WriteUnit <= 0 || m.WriteUnit > MaxWriteUnit {
		return fmt.Errorf("blockmap: write unit %d: must be from 1 to %d bytes", m.WriteUnit, int64(MaxWriteUnit))
	}
	if m.Chunk < MinChunk || m.Chunk > MaxChunk || m.Chunk&(m.Chunk-1) != 0 {
		return fmt.Errorf("blockmap: chunk size %d: must be a power of two from %d to %d bytes",
			m.Chunk, MinChunk, MaxChunk)
	}
	if m.ImageSize < 0 {
		return fmt.Errorf("blockmap: image size %d: must not be negative", m.ImageSize)
	}
	if m.Units() > MaxUnits || m.Chunks() > MaxUnits {
		return fmt.Errorf("blockmap: image of %d bytes: more than %d write units or chunks", m.ImageSize, int64(MaxUnits))
	}
	return nil
}

// errRange is returned for byte ranges or unit numbers outside the image.
var errRange = errors.New("outside the image")

// The accessors below are meant for a valid model; on an invalid one they
// return zero rather than divide by zero.

// Units is the number of write units tiling the image.
func (m Model) Units() int64 { return ceilDiv(m.ImageSize, m.WriteUnit) }

// Chunks is the number of snapshot chunks tiling the image.
func (m Model) Chunks() int64 { return ceilDiv(m.ImageSize, m.Chunk) }

// ExceptionsPerChunk is E = C/16, the exceptions one metadata chunk holds.
func (m Model) ExceptionsPerChunk() int64 { return max(m.Chunk/exceptionSize, 0) }

// UnitSpan returns the byte range [off, off+n) of unit u; the last unit of
// the image may be shorter than W.
func (m Model) UnitSpan(u int64) (off, n int64) {
	off = u * m.WriteUnit
	return off, min(m.WriteUnit, m.ImageSize-off)
}

// UnitsOf returns the units [first, last] that the byte range [off, off+n)
// touches. ok is false for an empty range.
func (m Model) UnitsOf(off, n int64) (first, last int64, ok bool) {
	if n <= 0 || m.WriteUnit <= 0 {
		return 0, 0, false
	}
	return off / m.WriteUnit, (off + n - 1) / m.WriteUnit, true
}

// chunksOfUnit returns the chunks [first, last] that unit u overlaps. A unit
// that is not chunk-aligned covers partial chunks; dm-snapshot copies those
// whole, so they count whole.
func (m Model) chunksOfUnit(u int64) (first, last int64) {
	off, n := m.UnitSpan(u)
	return off / m.Chunk, (off + n - 1) / m.Chunk
}

// checkRange returns an error unless [off, off+n) lies inside the image.
func (m Model) checkRange(off, n int64) error {
	if off < 0 || n < 0 || off > m.ImageSize || n > m.ImageSize-off {
		return fmt.Errorf("blockmap: byte range %d+%d of a %d-byte image: %w", off, n, m.ImageSize, errRange)
	}
	return nil
}

// checkUnit returns an error unless u is a unit of the image.
func (m Model) checkUnit(u int64) error {
	if u < 0 || u >= m.Units() {
		return fmt.Errorf("blockmap: write unit %d of %d: %w", u, m.Units(), errRange)
	}
	return nil
}

func ceilDiv(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
