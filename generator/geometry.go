package generator

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// Defaults of the geometry and the reserve.
const (
	// DefaultWriteUnit is the write unit of the lvm-um module, which
	// compares and writes chunk by chunk: the default chunk size (a
	// Geometry whose WriteUnit is 0 takes its own chunk size).
	DefaultWriteUnit = DefaultChunkSize
	// PrototypeWriteUnit is the write unit of the 2021 shell prototype of
	// the module (1 MiB dd units): --write-unit for devices that run it.
	PrototypeWriteUnit = MiB
	// DefaultChunkSize is LVM's default snapshot chunk size.
	DefaultChunkSize = 4 * KiB
	// DefaultReserve is the runtime reserve assumed when none is given:
	// what the device writes to the snapshot after it boots the new
	// release and before the update is committed and merged (ext4 journal
	// commits, logs, state files). A Yocto rootfs that is read-mostly
	// writes a few MiB in that window; 8 MiB leaves a margin for it while
	// still letting a 32 MiB snapshot (the reference setup) take a 24 MiB
	// release. It is a fixed amount, not a fraction of the snapshot,
	// because those writes do not grow with the snapshot. Devices that
	// log heavily to the rootfs must pass --reserve.
	DefaultReserve = 8 * MiB
)

// Geometry is how the device writes the image and how the snapshot
// stores the change.
type Geometry struct {
	WriteUnit int64 // W: the device compares and writes in units of W bytes; 0 means ChunkSize
	ChunkSize int64 // C: the snapshot's chunk size
}

// DefaultGeometry is the lvm-um module's write unit (the chunk) over LVM's
// default chunk.
var DefaultGeometry = Geometry{WriteUnit: DefaultWriteUnit, ChunkSize: DefaultChunkSize}

// Model is the geometry as blockmap's COW model for an image of size bytes.
func (g Geometry) Model(size int64) blockmap.Model {
	g = g.Resolved()
	return blockmap.Model{WriteUnit: g.WriteUnit, Chunk: g.ChunkSize, ImageSize: size}
}

// Resolved is the geometry with a WriteUnit of 0 replaced by the chunk
// size, what the lvm-um module writes in.
func (g Geometry) Resolved() Geometry {
	if g.WriteUnit == 0 {
		g.WriteUnit = g.ChunkSize
	}
	return g
}

// minWriteUnit is one sector: nothing smaller is ever written.
const minWriteUnit = 512

// Validate reports whether the geometry is one a device can have, as the
// chunk size is checked: a write unit (0: the chunk size) that is a power of two from a
// sector to 64 MiB (blockmap.MaxWriteUnit), a chunk that is a power of
// two from 4 KiB to 512 KiB (blockmap's model).
func (g Geometry) Validate() error {
	g = g.Resolved()
	if g.WriteUnit < minWriteUnit || g.WriteUnit > blockmap.MaxWriteUnit || g.WriteUnit&(g.WriteUnit-1) != 0 {
		return fmt.Errorf("write unit %d: must be a power of two from %d bytes to %d MiB", g.WriteUnit, minWriteUnit, blockmap.MaxWriteUnit>>20)
	}
	return g.Model(0).Validate()
}
