// Package generatortest provides a fake Builder for tests of the generator
// and the CLI, until they run against the real engine.
package generatortest

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// copyBuf is the copy buffer size.
const copyBuf = 1 << 20

// Fake copies the base to the requested image and flips one byte at each
// of Offsets, so a test knows exactly which write units change.
type Fake struct {
	Offsets      []int64 // bytes to invert in the copy
	Files        generator.FileCounts
	Contributors []generator.Contributor
	Err          error // returned after the image is written, if set
	// Hook runs after the image is written and before the result is
	// returned; tests use it to cancel a context mid-run.
	Hook func()
	// Calls counts Build calls.
	Calls int
}

var _ generator.Builder = (*Fake)(nil)

// Build implements generator.Builder.
func (f *Fake) Build(ctx context.Context, req generator.BuildRequest) (*generator.BuildResult, error) {
	f.Calls++
	if err := copyFile(ctx, req.BasePath, req.ImagePath); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(req.ImagePath, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	for _, off := range f.Offsets {
		var b [1]byte
		if _, err := out.ReadAt(b[:], off); err != nil {
			return nil, fmt.Errorf("fake builder: offset %d: %w", off, err)
		}
		b[0] ^= 0xFF
		if _, err := out.WriteAt(b[:], off); err != nil {
			return nil, err
		}
	}
	if f.Hook != nil {
		f.Hook()
	}
	if f.Err != nil {
		return nil, f.Err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &generator.BuildResult{Files: f.Files, Contributors: f.Contributors}, nil
}

func copyFile(ctx context.Context, from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, copyBuf)
	for {
		if err := ctx.Err(); err != nil {
			out.Close()
			return err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				out.Close()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			out.Close()
			return rerr
		}
	}
	return out.Close()
}

// ext4 superblock magic, so basesource takes a fake base for a raw image.
const (
	superblockMagicOff = 1024 + 0x38 // s_magic in the primary superblock
	ext4Magic          = 0xEF53
)

// WriteBase writes a deterministic pseudo-random image of size bytes (at
// least 2 KiB) with an ext4 superblock magic: a stand-in for an ext4 base
// image that only the fake builder can use.
func WriteBase(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	buf := make([]byte, copyBuf)
	var x uint32 = 2463534242
	for done := int64(0); done < size; {
		n := min(int64(len(buf)), size-done)
		for i := range buf[:n] {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			buf[i] = byte(x)
		}
		if done == 0 && n > superblockMagicOff+1 {
			buf[superblockMagicOff] = byte(ext4Magic & 0xFF)
			buf[superblockMagicOff+1] = byte(ext4Magic >> 8)
		}
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		done += n
	}
	return f.Close()
}
