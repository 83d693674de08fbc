package tarsource

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// Dictionary size codes of the LZMA2 filter property byte.
const (
	dict256MiB = 32 // 2 << 27: the largest size xzMaxDict allows
	dict384MiB = 33
	dict4GiB   = 40 // 4 GiB - 1, the format's largest
)

// xzStreamStart is where the first block header of a stream starts.
const xzStreamStart = xzStreamHeaderLen

// setXzDict rewrites the LZMA2 dictionary code in the block header at off
// and recomputes the header's CRC32, as a hostile encoder would.
func setXzDict(t *testing.T, data []byte, off int, code byte) {
	t.Helper()
	h := data[off : off+(int(data[off])+1)*4]
	flags := h[1]
	p := 2
	for _, bit := range []byte{xzFlagCompSize, xzFlagUncompSize} {
		if flags&bit != 0 {
			_, n := binary.Uvarint(h[p:])
			p += n
		}
	}
	if flags&3 != 0 || h[p] != xzFilterLZMA2 || h[p+1] != 1 {
		t.Fatalf("block header at %d is not a lone LZMA2 filter: % x", off, h)
	}
	h[p+2] = code
	binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(h[:len(h)-4]))
}

// xzTar is a tar of a few files compressed with the xz library.
func xzTar(t testing.TB, entries []ent) []byte {
	t.Helper()
	data, _ := compress(t, tarBytes(t, entries), Xz)
	return data
}

// guardCopy passes data through an xzGuard alone.
func guardCopy(data []byte) ([]byte, error) {
	var out bytes.Buffer
	_, err := io.Copy(&out, newXzGuard(bufio.NewReader(bytes.NewReader(data))))
	return out.Bytes(), err
}

// TestXzDictTooLarge: an xz archive whose block declares a dictionary over
// 256 MiB (in the first stream, or in a later stream after a valid one) is
// refused by Open, Probe and Contents with ErrDictTooLarge, naming where the
// block is, without the decoder allocating the dictionary.
func TestXzDictTooLarge(t *testing.T) {
	entries := []ent{dir("d", 0o755), reg("d/f", 0o644, strings.Repeat("xz", 5000))}
	first := xzTar(t, entries)
	setXzDict(t, first, xzStreamStart, dict4GiB)
	// A valid stream holding the tar's first 1024 bytes, then a hostile one
	// with the rest: the decoder reaches the second block only after
	// reading entries from the first.
	raw := tarBytes(t, entries)
	a, _ := compress(t, raw[:1024], Xz)
	b, _ := compress(t, raw[1024:], Xz)
	setXzDict(t, b, xzStreamStart, dict384MiB)
	later := append(append(append([]byte(nil), a...), 0, 0, 0, 0), b...) // with stream padding
	cases := []struct {
		name  string
		data  []byte
		probe bool // Probe sees the hostile block
		want  string
	}{
		{"first block", first, true, fmt.Sprintf("xz block at byte %d: LZMA2 dictionary of 4095 MiB, over the 256 MiB limit", xzStreamStart)},
		{"later stream", later, false, fmt.Sprintf("xz block at byte %d: LZMA2 dictionary of 384 MiB, over the 256 MiB limit", len(a)+4+xzStreamStart)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, c.data)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Open(p, Options{})
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrDictTooLarge) || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrCorrupt) ||
				!strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("Open: %v\nwant ErrDictTooLarge naming %s and %q", err, p, c.want)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
				t.Errorf("Open allocated %d MiB", n>>20)
			}
			ok, comp, err := Probe(p)
			if c.probe && (ok || comp != Xz || !errors.Is(err, ErrDictTooLarge) || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("Probe = %v %v %v, want false, xz, ErrDictTooLarge", ok, comp, err)
			}
			if !c.probe && (!ok || err != nil) {
				t.Errorf("Probe = %v %v, want true (the first block is valid)", ok, err)
			}
		})
	}
}

// TestXzDictAtLimit: a block declaring exactly 256 MiB passes the guard.
func TestXzDictAtLimit(t *testing.T) {
	data := xzTar(t, []ent{reg("f", 0o644, "at the limit")})
	setXzDict(t, data, xzStreamStart, dict256MiB)
	got, err := guardCopy(data)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("guard: %v, %d of %d bytes unchanged", err, len(got), len(data))
	}
}

// TestXzGuardTransparent: archives made by the xz CLI (xz -9 with its
// 64 MiB dictionary, every check type, many blocks with sizes in their
// headers, stored chunks, several streams with padding) pass the guard
// byte for byte and open to the same tree as the plain tar.
func TestXzGuardTransparent(t *testing.T) {
	ext4test.Tool(t, "xz")
	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 300<<10) // incompressible: LZMA2 stores it in uncompressed chunks
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	entries := []ent{dir("d", 0o755), reg("d/text", 0o644, strings.Repeat("the same line again\n", 20000)),
		reg("d/noise", 0o644, string(noise)), reg("empty", 0o644, "")}
	raw := tarBytes(t, entries)
	base, _, err := openEntries(t, entries, Options{})
	must(t, err)
	baseC := contentsOf(t, base)
	xzCLI := func(b []byte, args ...string) []byte {
		cmd := exec.Command("xz", append([]string{"-c", "-T1"}, args...)...)
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		must(t, err)
		return out
	}
	n := len(raw) / 2
	twoStreams := append(append(xzCLI(raw[:n], "-0"), make([]byte, 8)...), xzCLI(raw[n:], "-3", "--check=crc32")...)
	for name, data := range map[string][]byte{
		"xz -9":                xzCLI(raw, "-9"),
		"check none":           xzCLI(raw, "-0", "--check=none"),
		"check sha256":         xzCLI(raw, "-6", "--check=sha256"),
		"blocks of 64 KiB":     xzCLI(raw, "-6", "-T2", "--block-size=65536"),
		"two streams, padding": twoStreams,
		"library, one call":    xzTar(t, entries),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := guardCopy(data)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("guard: %v, %d of %d bytes unchanged", err, len(got), len(data))
			}
			tr, err := Open(writeFile(t, data), Options{})
			must(t, err)
			if !reflect.DeepEqual(tr.Nodes, base.Nodes) {
				t.Errorf("nodes differ from the plain archive's")
			}
			if got := contentsOf(t, tr); !reflect.DeepEqual(got, baseC) {
				t.Errorf("contents differ from the plain archive's")
			}
		})
	}
}

// TestXzGuardTruncated: every cut of a valid file fails in the guard or
// the decoder, never hangs or passes a short stream off as complete.
func TestXzGuardTruncated(t *testing.T) {
	data := xzTar(t, []ent{reg("f", 0o644, strings.Repeat("cut", 3000))})
	for cut := 0; cut < len(data); cut++ {
		got, err := guardCopy(data[:cut])
		if err == nil {
			t.Fatalf("cut at %d of %d: no error", cut, len(data))
		}
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("cut at %d: guard changed bytes", cut)
		}
	}
}

// FuzzXzGuard: any bytes pass the guard unchanged up to where it stops, and
// a file it reads to the end without error comes out whole; never a panic.
func FuzzXzGuard(f *testing.F) {
	f.Add(xzTar(f, []ent{reg("f", 0o644, "seed")}))
	f.Add(xzTar(f, []ent{reg("f", 0o644, strings.Repeat("seed line\n", 2000))}))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := guardCopy(data)
		if !bytes.Equal(got, data[:len(got)]) {
			t.Fatalf("guard changed bytes")
		}
		if err == nil && len(got) != len(data) {
			t.Fatalf("guard passed %d of %d bytes without an error", len(got), len(data))
		}
	})
}
