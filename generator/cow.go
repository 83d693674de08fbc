package generator

import "fmt"

// Limits of the geometry the COW model accepts.
const (
	// exceptionBytes is the size of one dm-snapshot exception record on
	// disk; a metadata chunk of C bytes holds C/exceptionBytes of them.
	exceptionBytes = 16
	// snapshotHeaderChunks is the header chunk plus the first metadata
	// area, present in every persistent snapshot's COW store.
	snapshotHeaderChunks = 2
	// minChunk and maxChunk bound an LVM snapshot chunk (lvcreate -c).
	minChunk = 4 * KiB
	maxChunk = 512 * KiB
	// minWriteUnit is one sector: nothing smaller is ever written.
	minWriteUnit = 512

	// DefaultWriteUnit is lvm-um's comparison unit on the device.
	DefaultWriteUnit = MiB
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
	WriteUnit int64 // W: the device compares and writes in units of W bytes
	ChunkSize int64 // C: the snapshot's chunk size
}

// DefaultGeometry is lvm-um's write unit over LVM's default chunk.
var DefaultGeometry = Geometry{WriteUnit: DefaultWriteUnit, ChunkSize: DefaultChunkSize}

func isPow2(n int64) bool { return n > 0 && n&(n-1) == 0 }

// Validate reports whether the geometry is one a device can have: both
// powers of two, the chunk between 4 KiB and 512 KiB, the unit at least a
// sector.
func (g Geometry) Validate() error {
	if !isPow2(g.ChunkSize) || g.ChunkSize < minChunk || g.ChunkSize > maxChunk {
		return fmt.Errorf("chunk size %d: must be a power of two from %d to %d bytes", g.ChunkSize, minChunk, maxChunk)
	}
	if !isPow2(g.WriteUnit) || g.WriteUnit < minWriteUnit {
		return fmt.Errorf("write unit %d: must be a power of two of at least %d bytes", g.WriteUnit, minWriteUnit)
	}
	return nil
}

// COWBytes is the space the snapshot's exception store uses after N
// distinct chunks have been written, per the measured dm-snapshot model:
// (2 + N + floor(N / (C/16))) * C.
// DiffImages checks it against blockmap's model on every run.
func COWBytes(chunksWritten, chunkSize int64) int64 {
	perMeta := chunkSize / exceptionBytes
	if perMeta <= 0 {
		return 0
	}
	used := snapshotHeaderChunks + chunksWritten + chunksWritten/perMeta
	return used * chunkSize
}
