package generator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/holes"
)

// streamSparse is stream for a file that may have holes (an image mkfs
// or a decompression wrote sparse): the ranges its filesystem reports as
// data are read and handed to fn, the holes between them go to zeros
// with their length, unread. Holes read as zeros, so fn and zeros
// together see exactly the bytes stream would hand fn. A file whose
// filesystem does not report holes is read in full.
func streamSparse(ctx context.Context, f *os.File, size int64, fn func([]byte) error, zeros func(n int64) error) error {
	for pos := int64(0); pos < size; {
		start, end, err := holes.Next(int(f.Fd()), pos, size)
		if err != nil { // holes not reported (or not well): the rest is read
			return streamRange(ctx, f, pos, size, fn)
		}
		if start > pos {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := zeros(start - pos); err != nil {
				return err
			}
		}
		if err := streamRange(ctx, f, start, end, fn); err != nil {
			return err
		}
		pos = end
	}
	return nil
}

// streamRange is stream for the bytes [from, to) of r.
func streamRange(ctx context.Context, r io.ReaderAt, from, to int64, fn func([]byte) error) error {
	if from >= to {
		return nil
	}
	err := stream(ctx, io.NewSectionReader(r, from, to-from), to-from, fn)
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("from byte %d: %w", from, err)
	}
	return err
}
