package generator

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/bits"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
	"github.com/lvm-um-gen/lvm-um-gen/generator/sparse"
)

// maxSparseBlock is the delta's sparse block size when the image allows
// it: the page size AOSP's tools expect, and the smallest chunk.
const maxSparseBlock = 4096

// sparseBlockSize is the delta's block size for an image of size bytes:
// 4 KiB, or the largest power of two dividing size when it is not a whole
// number of 4 KiB blocks. The format needs a multiple of 4.
func sparseBlockSize(size int64) (uint32, error) {
	bs := uint32(maxSparseBlock)
	if size > 0 {
		bs = uint32(1) << min(12, bits.TrailingZeros64(uint64(size)))
	}
	if bs < 4 {
		return 0, fmt.Errorf("an image of %d bytes is not a whole number of 4-byte words, which the sparse format needs", size)
	}
	return bs, nil
}

// deltaExtents turns the manifest's changed chunks into the sparse blocks
// the delta carries: every changed chunk whole, neighbours merged.
func deltaExtents(man *manifest.Manifest, bs uint32) []sparse.Extent {
	var out []sparse.Extent
	per := man.ChunkBytes / int64(bs)
	for _, c := range man.Changed {
		first := c.Index * per
		n := min(man.ChunkBytes, man.ImageBytes-c.Index*man.ChunkBytes) / int64(bs)
		if k := len(out) - 1; k >= 0 && out[k].Block+out[k].Blocks == first {
			out[k].Blocks += n
			continue
		}
		out = append(out, sparse.Extent{Block: first, Blocks: n})
	}
	return out
}

// writeDelta writes the delta payload to path: the Android sparse image of
// the new image holding exactly the manifest's changed chunks (FILL where a
// block is one repeated 4-byte pattern, RAW otherwise) and DONT_CARE, "as
// the base", everywhere else. It reads only the changed chunks and returns
// the payload's size.
func writeDelta(ctx context.Context, img io.ReaderAt, man *manifest.Manifest, path string) (int64, error) {
	bs, err := sparseBlockSize(man.ImageBytes)
	if err != nil {
		return 0, &InputError{Input: "--delta", Err: err}
	}
	h, chunks, err := sparse.Plan(img, man.ImageBytes, bs, deltaExtents(man, bs))
	if err != nil {
		return 0, fmt.Errorf("delta payload: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	out, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(out, bufSize)
	size, err := sparse.Write(bw, img, h, chunks)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("delta payload: %w", err)
	}
	return size, nil
}
