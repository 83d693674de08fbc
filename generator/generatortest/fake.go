// Package generatortest provides a fake Builder and a base image for tests
// of the generator and the CLI that do not need the real engine.
package generatortest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// copyBuf is the copy buffer size.
const copyBuf = 1 << 20

// Fake copies the base to an image file in the request's WorkDir and flips
// one byte at each of Offsets, so a test knows exactly which write units
// change. It does not say where the image differs (BuildResult.Differs is
// nil), so the generator compares the whole images.
type Fake struct {
	Offsets []int64 // bytes to invert in the copy
	Files   generator.FileCounts
	// Touched charges blocks to paths, as the engine's sync result does
	// (blocks without a kind count as directory blocks).
	Touched []written.Path
	Err     error // returned after the image is written, if set
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
	image := filepath.Join(req.WorkDir, "fake.img")
	if err := copyFile(ctx, req.BasePath, image); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(image, os.O_RDWR, 0)
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
	img, err := generator.FileImage(image)
	if err != nil {
		return nil, err
	}
	return &generator.BuildResult{Image: img, Files: f.Files, Touched: f.Touched}, nil
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

// baseTime is the time of the base's root directory, so every base of a
// size is the same bytes.
var baseTime = time.Unix(1700000000, 0)

// WriteBase writes an empty ext4 image of size bytes (a multiple of 1 KiB,
// at least 256 KiB) made by mkfs.ext4 with fixed UUID, hash seed and times:
// a base only the fake builder changes. Without e2fsprogs the test skips
// (or fails under LVMUM_REQUIRE_TOOLS=1).
func WriteBase(t testing.TB, path string, size int64) {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "e2fsck", "debugfs")
	src := t.TempDir()
	if err := os.Chtimes(src, baseTime, baseTime); err != nil {
		t.Fatal(err)
	}
	if err := ext4test.BuildImageAt(path, src, ext4test.ImageOptions{Size: size, NormalizeTimes: true}); err != nil {
		t.Fatal(err)
	}
}
