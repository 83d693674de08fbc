package check_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/check/checktest"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

var (
	fuzzOnce sync.Once
	fuzzImg  []byte
	fuzzErr  error
)

// slowCheck flags an input the checker crawls on (a loop it fails to bound).
const slowCheck = 5 * time.Second

// fuzzBase is a small 1 KiB-block image with every kind of metadata: an
// htree directory, xattr blocks, symlinks, hard links, a journal and an
// orphan file.
func fuzzBase(f *testing.F) []byte {
	fuzzOnce.Do(func() {
		src := f.TempDir()
		o := ext4test.DefaultGenOptions()
		o.Files, o.Dirs, o.BigDir, o.MaxTarget, o.MaxSize = 30, 6, 200, 900, 8<<10
		if fuzzErr = ext4test.GenTree(rand.New(rand.NewPCG(3, 3)), src, o); fuzzErr != nil {
			return
		}
		img := f.TempDir() + "/fuzz.ext4"
		if fuzzErr = ext4test.BuildImageAt(img, src, ext4test.ImageOptions{BlockSize: 1024, Size: 4 << 20, NormalizeTimes: true}); fuzzErr != nil {
			return
		}
		fuzzImg, fuzzErr = os.ReadFile(img)
	})
	if fuzzErr != nil {
		f.Fatal(fuzzErr)
	}
	return fuzzImg
}

// patches encodes byte changes as FuzzCheck reads them: per change a
// 4-byte little-endian offset, a length byte and the bytes.
func patches(changes map[uint32][]byte) []byte {
	var b []byte
	for off, v := range changes {
		b = binary.LittleEndian.AppendUint32(b, off)
		b = append(b, byte(len(v)))
		b = append(b, v...)
	}
	return b
}

// FuzzCheck applies arbitrary byte changes (and, with a zero-length
// change, a truncation) to a real image: check.Image must return, quickly,
// with nil or an error, never panic.
func FuzzCheck(f *testing.F) {
	ext4test.RequireTools(f, "mkfs.ext4", "fsck.ext4", "debugfs")
	base := fuzzBase(f)
	f.Add([]byte{})
	f.Add(patches(map[uint32][]byte{1024 + 0x38: {0, 0}}))
	f.Add(patches(map[uint32][]byte{2048: {0xFF, 0xFF, 0xFF, 0xFF}}))
	f.Add(patches(map[uint32][]byte{uint32(len(base) / 2): nil}))
	// Seeds from the corruption harness: one damaged metadata block of
	// every kind, checksums recomputed.
	dir := f.TempDir()
	img := dir + "/seed.ext4"
	if err := os.WriteFile(img, base, 0o644); err == nil {
		if im, err := checktest.Open(img); err == nil {
			rng := rand.New(rand.NewPCG(5, 5))
			for _, k := range checktest.Kinds {
				ts := im.Targets(k)
				if len(ts) == 0 {
					continue
				}
				if err := os.WriteFile(img, base, 0o644); err != nil {
					f.Fatal(err)
				}
				if _, err := im.Corrupt(img, ts[rng.IntN(len(ts))], rng); err != nil {
					f.Fatal(err)
				}
				got, err := os.ReadFile(img)
				if err != nil {
					f.Fatal(err)
				}
				ch := map[uint32][]byte{}
				for i := 0; i < len(base); i += 1024 {
					if !bytes.Equal(got[i:i+1024], base[i:i+1024]) {
						ch[uint32(i)] = got[i : i+255]
						ch[uint32(i+255)] = got[i+255 : i+510]
						ch[uint32(i+510)] = got[i+510 : i+765]
						ch[uint32(i+765)] = got[i+765 : i+1020]
						ch[uint32(i+1020)] = got[i+1020 : i+1024]
					}
				}
				f.Add(patches(ch))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img := append([]byte(nil), base...)
		for len(data) >= 5 && len(img) > 0 {
			off := int(binary.LittleEndian.Uint32(data) % uint32(len(img)))
			n := int(data[4])
			data = data[5:]
			if n == 0 {
				img = img[:off]
				continue
			}
			n = min(n, len(data))
			copy(img[off:], data[:n])
			data = data[n:]
		}
		start := time.Now()
		_ = check.Image(bytes.NewReader(img), int64(len(img)))
		if d := time.Since(start); d > slowCheck {
			t.Fatalf("check took %v", d)
		}
	})
}
