package fs

import (
	"encoding/binary"

	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// fuzzBase is the image every FuzzOpen input is laid over.
var (
	fuzzOnce sync.Once
	fuzzImg  []byte
)

// fuzzHead is how much of the image's start the seeds carry: superblock,
// descriptors, bitmaps and the first inode table blocks of a 1 KiB image.
const fuzzHead = 64 << 10

// slowExec flags inputs that make the engine crawl (an unbounded loop).
const slowExec = 2 * time.Second

// byteDev is a Device over a byte slice.
type byteDev struct{ b []byte }

func (d *byteDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(d.b)) {
		return 0, io.EOF
	}
	n := copy(p, d.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (d *byteDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(d.b)) {
		return 0, io.ErrShortWrite
	}
	return copy(d.b[off:], p), nil
}

// FuzzOpen lays the input over the start of a real image (an input
// shorter than the image's head truncates the device there) and runs Open
// and the core operations: none may panic, whatever the bytes.
func FuzzOpen(f *testing.F) {
	fuzzOnce.Do(func() {
		img := buildImage(f, "1024", "4M")
		b, err := os.ReadFile(img)
		if err != nil {
			f.Fatal(err)
		}
		fuzzImg = b
	})
	if fuzzImg == nil {
		f.Skip("no base image")
	}
	head := fuzzImg[:fuzzHead]
	f.Add(head)
	f.Add(head[:2048])
	flipped := append([]byte(nil), head...)
	flipped[1024+0x28] ^= 0xFF // inodes per group
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		dev := &byteDev{b: append([]byte(nil), fuzzImg...)}
		copy(dev.b, data)
		if len(data) < fuzzHead {
			dev.b = dev.b[:len(data)]
		}
		watchdog := time.AfterFunc(slowExec, func() { panic("fuzz: one input ran longer than " + slowExec.String()) })
		defer watchdog.Stop()
		fs, err := Open(dev, Options{})
		if err != nil {
			return
		}
		exercise(fs)
	})
}

// exercise runs the read and allocation paths, ignoring their errors.
func exercise(f *FS) {
	for ino := uint32(1); ino <= f.InodesCount() && ino < 40; ino++ {
		f.ReadInode(ino)
	}
	step := f.BlocksCount()/64 + 1
	for blk := uint64(0); blk < f.BlocksCount(); blk += step {
		f.BlockInUse(blk)
	}
	if ino, err := f.AllocInode(InodeRequest{Parent: 2}); err == nil {
		f.FreeInode(ino, false)
	}
	if ext, err := f.AllocBlocks(BlockRequest{N: 10}); err == nil {
		for _, e := range ext {
			f.FreeBlocks(e.Start, e.Len)
		}
	}
	f.Flush()
}

// TestResealedFlips flips every byte of the superblock and of the
// descriptor table of a real image, re-seals the checksums so validation
// (not the checksum) has to catch the damage, and runs Open and the core
// operations: no panic, no hang, and Open either refuses or works.
func TestResealedFlips(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "4M")
	base, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	f0, err := Open(&byteDev{b: append([]byte(nil), base...)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	gdtOff := int(f0.geo.GdtStart()) * int(f0.BlockSize())
	gdtLen := int(f0.geo.Groups) * f0.descSize
	var offsets []int
	for o := disk.SuperblockOffset; o < disk.SuperblockOffset+0x3FC; o++ {
		offsets = append(offsets, o)
	}
	for o := gdtOff; o < gdtOff+gdtLen; o++ {
		offsets = append(offsets, o)
	}
	for _, o := range offsets {
		for _, x := range []byte{0xFF, 0x01, 0x80} {
			b := append([]byte(nil), base...)
			b[o] ^= x
			reseal(b, gdtOff, f0)
			if fs, err := Open(&byteDev{b: b}, Options{}); err == nil {
				exercise(fs)
			}
		}
	}
}

// reseal recomputes the superblock and descriptor checksums in b.
func reseal(b []byte, gdtOff int, f0 *FS) {
	var sb disk.Superblock
	sbRaw := b[disk.SuperblockOffset : disk.SuperblockOffset+disk.SuperblockSize]
	if sb.Unmarshal(sbRaw) != nil {
		return
	}
	sb.SetChecksum()
	sb.Marshal(sbRaw)
	ds := f0.descSize
	for g := 0; g < int(f0.geo.Groups); g++ {
		raw := b[gdtOff+g*ds : gdtOff+(g+1)*ds]
		binary.LittleEndian.PutUint16(raw[0x1E:], disk.GroupDescChecksum(&f0.sb, uint32(g), raw))
	}
}
