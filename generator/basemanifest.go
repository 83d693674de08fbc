package generator

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
)

// manifestReadBytes bounds each read of changedChunks.
const manifestReadBytes = 1 << 20

// changedChunks finds, among the chunks the changed write units cover, the
// ones whose bytes differ between base and img, and hashes their new
// content. Only those units are read, in reads of at most 1 MiB.
func changedChunks(ctx context.Context, base, img io.ReaderAt, m blockmap.Model, units []int64) ([]blockmap.ChangedChunk, error) {
	var out []blockmap.ChangedChunk
	per := max(manifestReadBytes/m.Chunk, 1) // chunks per read
	bufA, bufB := make([]byte, per*m.Chunk), make([]byte, per*m.Chunk)
	next := int64(0) // first chunk not yet looked at
	for _, u := range units {
		off, n := m.UnitSpan(u)
		first, last := max(off/m.Chunk, next), (off+n-1)/m.Chunk
		for c := first; c <= last; c += per {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			k := min(per, last-c+1)
			from, to := c*m.Chunk, min((c+k)*m.Chunk, m.ImageSize)
			a, b := bufA[:to-from], bufB[:to-from]
			if _, err := base.ReadAt(a, from); err != nil {
				return nil, fmt.Errorf("read base at byte %d: %w", from, err)
			}
			if _, err := img.ReadAt(b, from); err != nil {
				return nil, fmt.Errorf("read new image at byte %d: %w", from, err)
			}
			for i := int64(0); i < k; i++ {
				lo, hi := i*m.Chunk, min((i+1)*m.Chunk, int64(len(a)))
				if !bytes.Equal(a[lo:hi], b[lo:hi]) {
					out = append(out, blockmap.ChangedChunk{Index: c + i, Hash: blockmap.HashChunk(b[lo:hi])})
				}
			}
		}
		next = max(next, last+1)
	}
	return out, nil
}

// newManifest assembles the base manifest of a measured release and checks
// that its cost, which the device will compute from it, is the cost the
// diff measured.
func newManifest(m blockmap.Model, d *Diff, baseSums []blockmap.ChunkHash, changed []blockmap.ChangedChunk) (*manifest.Manifest, error) {
	man := &manifest.Manifest{ChunkBytes: m.Chunk, WriteUnitBytes: m.WriteUnit, ImageBytes: m.ImageSize,
		Base: baseSums, Changed: changed}
	for _, s := range []struct {
		hex string
		dst *[32]byte
	}{{d.OldSHA256, &man.BaseSHA256}, {d.NewSHA256, &man.ImageSHA256}} {
		if b, err := hex.DecodeString(s.hex); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("base manifest: bad checksum %q", s.hex)
		} else {
			copy(s.dst[:], b)
		}
	}
	if err := man.Validate(); err != nil {
		return nil, fmt.Errorf("base manifest: %w", err)
	}
	rel, err := man.ReleaseCost()
	if err != nil {
		return nil, fmt.Errorf("base manifest: %w", err)
	}
	if rel.COWBytes != d.COWBytes || rel.ChunksWritten != d.ChunksWritten {
		return nil, fmt.Errorf("internal error: the manifest's cost (%d chunks, %d COW bytes) is not the measured one (%d, %d)",
			rel.ChunksWritten, rel.COWBytes, d.ChunksWritten, d.COWBytes)
	}
	return man, nil
}
