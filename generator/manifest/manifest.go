// Package manifest is the base manifest an lvm-um artifact carries in its
// header's meta-data: what the release was built against and what it
// changes, chunk by chunk, so the device can measure how its rootfs drifted
// from the base and compute its exact snapshot cost before it creates
// anything (blockmap.Model.CostOnDevice), and check that a delta payload
// writes only what the manifest says it changes.
//
// # Where it travels
//
// The meta-data JSON object of the artifact's (single) payload header
// holds it as one string under the key "lvm_um_manifest" (MetaKey), next
// to the flat keys the generator always wrote (predicted_cow_bytes,
// chunk_bytes, ...). The Mender client hands the meta-data to the update
// module as the file header/meta-data before any payload stream, the
// artifact's signature covers it, and the 2021 prototype ignores it.
//
// # Encoding
//
// The string is the standard base64 (RFC 4648, padded) of a raw DEFLATE
// stream (RFC 1951) of this little-endian binary layout:
//
//	offset size
//	0      4    magic "LUMF"
//	4      2    format version, 1
//	6      2    hash bytes per chunk, 8
//	8      8    chunk bytes C (a power of two, 4 KiB..512 KiB)
//	16     8    write unit bytes W (the generator's; > 0)
//	24     8    image bytes (of the base and of the new image)
//	32     32   SHA-256 of the base image
//	64     32   SHA-256 of the new image
//	96     8    chunk count, = ceil(image bytes / C)
//	104    8    changed count
//	112         chunk count hashes, 8 bytes each: the base's chunks in order
//	            changed count entries, in ascending chunk order, each:
//	              uvarint gap (chunk index - previous index - 1; the
//	                first entry's gap is its index)
//	              8 bytes: the new content's hash
//
// A chunk's hash is the first 8 bytes of the SHA-256 of its bytes
// (blockmap.ChunkHash; the last chunk may be short). Raw, that is 8 bytes
// per chunk: 2 MiB per GiB of image at 4 KiB chunks. DEFLATE shrinks the
// many identical hashes of an image's unused, zeroed chunks (and of any
// other repeated chunk) to almost nothing, and base64 then adds a third.
//
// # Decoding
//
// Decode is strict, for a device that acts on what it reads: bad base64
// or DEFLATE, a wrong magic, version or hash size, a chunk size the
// snapshot cannot have, a write unit of 0, sizes that overflow or exceed
// the caller's limit, a chunk count that disagrees with the image size,
// changed chunks out of range, unsorted or repeated, a changed chunk whose
// new hash equals its base hash, truncated data and trailing bytes are
// errors wrapping ErrInvalid, never a panic. CheckBase and CheckMetaData
// refuse a manifest for another base than the artifact names.
package manifest

import (
	"errors"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// MetaKey is the meta-data key whose string value is the encoded manifest.
const MetaKey = "lvm_um_manifest"

// Version is the format version Encode writes and Decode reads.
const Version = 1

// magic starts every manifest.
const magic = "LUMF"

// headerBytes is the fixed part before the hashes.
const headerBytes = 112

// ErrInvalid is wrapped by every error about a manifest's content.
var ErrInvalid = errors.New("invalid manifest")

func invalid(format string, a ...any) error {
	return fmt.Errorf("manifest: %w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Manifest describes the base a release was built against and the chunks
// it changes.
type Manifest struct {
	ChunkBytes     int64
	WriteUnitBytes int64
	ImageBytes     int64
	BaseSHA256     [32]byte
	ImageSHA256    [32]byte
	// Base holds one hash per chunk of the base image.
	Base []blockmap.ChunkHash
	// Changed lists the chunks whose bytes differ in the new image,
	// ascending, with the new content's hash.
	Changed []blockmap.ChangedChunk
}

// Model is the manifest's geometry as blockmap's cost model.
func (m *Manifest) Model() blockmap.Model {
	return blockmap.Model{WriteUnit: m.WriteUnitBytes, Chunk: m.ChunkBytes, ImageSize: m.ImageBytes}
}

// Chunks is the number of chunks of the image.
func (m *Manifest) Chunks() int64 { return m.Model().Chunks() }

// Validate checks that the manifest is consistent: a valid geometry, one
// base hash per chunk, changed chunks ascending, distinct, inside the
// image and really changed.
func (m *Manifest) Validate() error {
	if err := m.Model().Validate(); err != nil {
		return invalid("%v", err)
	}
	if int64(len(m.Base)) != m.Chunks() {
		return invalid("%d base hashes for %d chunks of %d bytes", len(m.Base), m.Chunks(), m.ChunkBytes)
	}
	prev := int64(-1)
	for _, c := range m.Changed {
		if c.Index <= prev || c.Index >= m.Chunks() {
			return invalid("changed chunk %d after %d in an image of %d chunks: unsorted, repeated or out of range", c.Index, prev, m.Chunks())
		}
		if c.Hash == m.Base[c.Index] {
			return invalid("changed chunk %d has the base's hash %s", c.Index, c.Hash)
		}
		prev = c.Index
	}
	return nil
}

// NewHash is the hash chunk i has in the new image.
func (m *Manifest) NewHash(i int64) blockmap.ChunkHash {
	if k, ok := m.changedAt(i); ok {
		return m.Changed[k].Hash
	}
	return m.Base[i]
}

// IsChanged reports whether the release changes chunk i.
func (m *Manifest) IsChanged(i int64) bool {
	_, ok := m.changedAt(i)
	return ok
}

func (m *Manifest) changedAt(i int64) (int, bool) {
	lo, hi := 0, len(m.Changed)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.Changed[mid].Index < i {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(m.Changed) && m.Changed[lo].Index == i
}

// ReleaseCost is the snapshot cost of the release on a device that holds
// the base exactly: the generator's predicted_cow_bytes.
func (m *Manifest) ReleaseCost() (blockmap.Result, error) {
	return m.Model().ReleaseCost(m.Base, m.Changed)
}

// CostOn is the exact cost on a device whose rootfs has the chunk hashes
// device, writing in units of writeUnit bytes (0: the manifest's).
func (m *Manifest) CostOn(device []blockmap.ChunkHash, writeUnit int64) (blockmap.DeviceCost, error) {
	model := m.Model()
	if writeUnit != 0 {
		model.WriteUnit = writeUnit
	}
	return model.CostOnDevice(m.Base, m.Changed, device)
}

// CheckDeltaRange reports an error unless the byte range [off, off+n) of
// the image lies in chunks the release changes: a delta payload may write
// nothing else.
func (m *Manifest) CheckDeltaRange(off, n int64) error {
	if off < 0 || n <= 0 || off > m.ImageBytes || n > m.ImageBytes-off {
		return invalid("delta range of %d bytes at byte %d is outside the %d-byte image", n, off, m.ImageBytes)
	}
	for c := off / m.ChunkBytes; c <= (off+n-1)/m.ChunkBytes; c++ {
		if !m.IsChanged(c) {
			return invalid("the delta writes chunk %d (bytes %d..%d), which the manifest lists as unchanged", c, off, off+n)
		}
	}
	return nil
}
