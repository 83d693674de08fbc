package sparse

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

const bs = 4096

// images returns a base and a new image of n blocks: the new one has
// random blocks, zero blocks and pattern blocks where it differs.
func images(seed uint64, n int) (base, next []byte, carry []Extent) {
	r := rand.New(rand.NewPCG(seed, 3))
	base = make([]byte, n*bs)
	for i := range base {
		base[i] = byte(r.Uint32())
	}
	next = bytes.Clone(base)
	for b := 0; b < n; {
		run := 1 + r.IntN(6)
		run = min(run, n-b)
		if r.IntN(3) == 0 {
			for k := b; k < b+run; k++ {
				blk := next[k*bs : (k+1)*bs]
				switch r.IntN(4) {
				case 0:
					clear(blk)
				case 1:
					pat := []byte{byte(r.Uint32()), 2, 3, byte(k)}
					for i := 0; i < bs; i += 4 {
						copy(blk[i:], pat)
					}
				default:
					for i := range blk {
						blk[i] = byte(r.Uint32())
					}
				}
			}
			carry = append(carry, Extent{Block: int64(b), Blocks: int64(run)})
		}
		b += run + r.IntN(5)
	}
	return base, next, carry
}

// writerAt is an in-memory io.WriterAt over a fixed buffer.
type writerAt []byte

func (w writerAt) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w)) {
		return 0, errors.New("write outside the image")
	}
	return copy(w[off:], p), nil
}

func encode(t testing.TB, next []byte, carry []Extent) ([]byte, []Chunk) {
	t.Helper()
	h, chunks, err := Plan(bytes.NewReader(next), int64(len(next)), bs, carry)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := Write(&buf, bytes.NewReader(next), h, chunks)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Write says %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes(), chunks
}

// TestExpandOverBaseIsNew: a delta of the differing extents, expanded
// over a copy of the base, is the new image byte for byte; fill blocks
// are FILL chunks, and the reader reports the chunks the plan laid out.
func TestExpandOverBaseIsNew(t *testing.T) {
	for seed := range uint64(10) {
		base, next, carry := images(seed, 200+int(seed)*37)
		simg, chunks := encode(t, next, carry)
		got := writerAt(bytes.Clone(base))
		var seen []Chunk
		h, err := Expand(bytes.NewReader(simg), got, func(h Header, c Chunk) error {
			seen = append(seen, c)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if h.ImageBytes() != int64(len(next)) || !bytes.Equal(got, next) {
			t.Fatalf("seed %d: expanded image differs from the new one", seed)
		}
		if fmt.Sprint(seen) != fmt.Sprint(chunks) {
			t.Fatalf("seed %d: read chunks %v, planned %v", seed, seen, chunks)
		}
		var raw int64
		for _, c := range chunks {
			if c.Type == Raw {
				raw += c.Blocks
			}
			if c.Type == Fill {
				blk := next[c.Block*bs : (c.Block+1)*bs]
				if !bytes.Equal(blk[:4], c.Pattern[:]) {
					t.Fatalf("FILL at block %d has pattern %x, the block starts %x", c.Block, c.Pattern, blk[:4])
				}
			}
		}
		if want := int64(FileHeaderSize) + int64(len(chunks))*ChunkHeaderSize + raw*bs; int64(len(simg)) > want+int64(4*len(chunks)) {
			t.Fatalf("sparse image of %d bytes, more than headers and RAW data (%d)", len(simg), want)
		}
	}
}

// TestSimg2img checks what we write with AOSP's own tools: simg2img's
// expansion holds the new image's bytes in every carried extent and
// zeros elsewhere (DONT_CARE), and simg_dump lists exactly our chunks.
// Then the other way: what img2simg writes, our reader expands to the
// image it came from.
func TestSimg2img(t *testing.T) {
	ext4test.RequireTools(t, "simg2img", "simg_dump", "img2simg")
	dir := t.TempDir()
	_, next, carry := images(42, 600)
	simg, chunks := encode(t, next, carry)
	in, out := filepath.Join(dir, "delta.simg"), filepath.Join(dir, "expanded.img")
	if err := os.WriteFile(in, simg, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("simg2img", in, out).CombinedOutput(); err != nil {
		t.Fatalf("simg2img: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(next))
	for _, e := range carry {
		copy(want[e.Block*bs:], next[e.Block*bs:(e.Block+e.Blocks)*bs])
	}
	if !bytes.Equal(got, want) {
		t.Fatal("simg2img's expansion differs from the new image's carried extents over zeros")
	}
	dump, err := exec.Command("simg_dump", "-v", in).CombinedOutput()
	if err != nil {
		t.Fatalf("simg_dump: %v\n%s", err, dump)
	}
	if listed := parseDump(t, string(dump)); fmt.Sprint(listed) != fmt.Sprint(chunks) {
		t.Fatalf("simg_dump lists\n%v\nwe planned\n%v", listed, chunks)
	}

	// img2simg's file, read by us.
	orig := filepath.Join(dir, "orig.img")
	if err := os.WriteFile(orig, next, 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(dir, "theirs.simg")
	if b, err := exec.Command("img2simg", orig, theirs).CombinedOutput(); err != nil {
		t.Fatalf("img2simg: %v\n%s", err, b)
	}
	f, err := os.Open(theirs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back := make(writerAt, len(next))
	if _, err := Expand(f, back, nil); err != nil {
		t.Fatalf("reading img2simg's output: %v", err)
	}
	if !bytes.Equal(back, next) {
		t.Fatal("our expansion of img2simg's output differs from its input")
	}
}

// parseDump reads simg_dump -v's chunk table into Chunks.
func parseDump(t *testing.T, dump string) []Chunk {
	var out []Chunk
	for _, line := range strings.Split(dump, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil {
			continue
		}
		block, _ := strconv.ParseInt(f[3], 10, 64)
		blocks, _ := strconv.ParseInt(f[4], 10, 64)
		c := Chunk{Block: block, Blocks: blocks}
		desc := strings.Join(f[5:], " ")
		switch {
		case strings.HasPrefix(desc, "Raw data"):
			c.Type = Raw
		case strings.HasPrefix(desc, "Fill with 0x"):
			c.Type = Fill
			v, err := strconv.ParseUint(strings.TrimPrefix(f[7], "0x"), 16, 32)
			if err != nil {
				t.Fatalf("simg_dump fill line %q: %v", line, err)
			}
			binary.LittleEndian.PutUint32(c.Pattern[:], uint32(v))
		case strings.HasPrefix(desc, "Don't care"):
			c.Type = DontCare
		default:
			t.Fatalf("simg_dump line %q: unknown chunk", line)
		}
		out = append(out, c)
	}
	return out
}

// valid is a small sparse image of 8 blocks of 8 bytes: RAW 2, FILL 3,
// DONT_CARE 3.
func valid() []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{BlockSize: 8, TotalBlocks: 8, TotalChunks: 3})
	if err != nil {
		panic(err)
	}
	w.Raw(2)
	w.Write([]byte("0123456789abcdef"))
	w.Fill(3, [4]byte{1, 2, 3, 4})
	w.DontCare(3)
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// TestHostile: malformed sparse images give one-line errors wrapping
// ErrInvalid from the reader, never a panic, and nothing is written
// after the first bad chunk.
func TestHostile(t *testing.T) {
	v := valid()
	if _, err := Expand(bytes.NewReader(v), make(writerAt, 64), nil); err != nil {
		t.Fatalf("the valid image fails: %v", err)
	}
	le := binary.LittleEndian
	set := func(off int, val uint32, size int) []byte {
		b := bytes.Clone(v)
		if size == 2 {
			le.PutUint16(b[off:], uint16(val))
		} else {
			le.PutUint32(b[off:], val)
		}
		return b
	}
	c1 := FileHeaderSize            // first chunk header (RAW)
	c2 := c1 + ChunkHeaderSize + 16 // second (FILL)
	c3 := c2 + ChunkHeaderSize + 4  // third (DONT_CARE)
	cases := map[string][]byte{
		"wrong magic":            set(0, 0x12345678, 4),
		"major version 2":        set(4, 2, 2),
		"file header 20":         set(8, 20, 2),
		"chunk header 8":         set(10, 8, 2),
		"block size 0":           set(12, 0, 4),
		"block size 6":           set(12, 6, 4),
		"chunks > blocks":        set(20, 9, 4),
		"too few chunks":         set(20, 2, 4),
		"too many chunks":        set(20, 4, 4),
		"more blocks than given": set(16, 9, 4),
		"chunk out of range":     set(c3+4, 4, 4),
		"zero-block chunk":       set(c3+4, 0, 4),
		"unknown type":           set(c2, 0xCAC9, 2),
		"CRC32 chunk":            set(c3, uint32(CRC32), 2),
		"RAW size disagrees":     set(c1+8, 12+15, 4),
		"FILL size disagrees":    set(c2+8, 12, 4),
		"DONT_CARE with data":    set(c3+8, 16, 4),
		"RAW longer than image":  set(c1+4, 1<<31, 4),
		"trailing bytes":         append(bytes.Clone(v), 0),
	}
	// The overflow case needs its own header: 2^31 blocks of 2^31+4 bytes.
	huge := bytes.Clone(v)
	le.PutUint32(huge[12:], 1<<31+4)
	le.PutUint32(huge[16:], 1<<31)
	cases["size overflows"] = huge
	for i := 0; i < len(v); i++ {
		cases[fmt.Sprintf("truncated at %d", i)] = v[:i]
	}
	for name, b := range cases {
		w := &limitWriter{limit: 64}
		_, err := Expand(bytes.NewReader(b), w, nil)
		if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line ErrInvalid", name, err)
		}
	}
	// A check refusing a chunk stops the expansion before it writes it.
	w := &limitWriter{limit: 64}
	stop := errors.New("not in the manifest")
	if _, err := Expand(bytes.NewReader(v), w, func(h Header, c Chunk) error {
		if c.Type == Fill {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || w.written != 16 {
		t.Fatalf("check: got %v after %d bytes written, want the check's error after the RAW chunk's 16", err, w.written)
	}
}

// limitWriter accepts writes inside [0, limit) and counts them.
type limitWriter struct {
	limit, written int64
}

func (l *limitWriter) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > l.limit {
		return 0, errors.New("write outside the image")
	}
	l.written += int64(len(p))
	return len(p), nil
}

func TestWriterRefusesMisuse(t *testing.T) {
	h := Header{BlockSize: 8, TotalBlocks: 4, TotalChunks: 2}
	for name, f := range map[string]func(w *Writer) error{
		"too much RAW data": func(w *Writer) error { w.Raw(1); _, err := w.Write(make([]byte, 9)); return err },
		"RAW data missing":  func(w *Writer) error { w.Raw(1); w.Write(make([]byte, 4)); return w.DontCare(3) },
		"past the end":      func(w *Writer) error { return w.DontCare(5) },
		"empty chunk":       func(w *Writer) error { return w.Fill(0, [4]byte{}) },
		"too many chunks":   func(w *Writer) error { w.DontCare(1); w.DontCare(1); return w.DontCare(1) },
		"too few blocks":    func(w *Writer) error { w.DontCare(1); w.DontCare(1); return w.Close() },
		"unfinished RAW":    func(w *Writer) error { w.DontCare(3); w.Raw(1); return w.Close() },
	} {
		w, err := NewWriter(io.Discard, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := f(w); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, bad := range []Header{{BlockSize: 0, TotalBlocks: 1}, {BlockSize: 6, TotalBlocks: 1}, {BlockSize: 8, TotalBlocks: 1, TotalChunks: 2}} {
		if _, err := NewWriter(io.Discard, bad); err == nil {
			t.Errorf("header %+v accepted", bad)
		}
	}
	for _, bad := range [][]Extent{{{Block: 3, Blocks: 2}, {Block: 4, Blocks: 1}}, {{Block: 0, Blocks: 0}}, {{Block: 15, Blocks: 2}}} {
		if _, _, err := Plan(bytes.NewReader(make([]byte, 16*8)), 16*8, 8, bad); err == nil {
			t.Errorf("extents %v accepted", bad)
		}
	}
	if _, _, err := Plan(bytes.NewReader(nil), 100, 8, nil); err == nil {
		t.Error("an image of 100 bytes in 8-byte blocks accepted")
	}
}

// TestLongRunsSplit: a RAW run longer than a chunk header can describe is
// split into several chunks, which expand to the same image.
func TestLongRunsSplit(t *testing.T) {
	if MaxChunkBlocks(Raw, 1<<20) != 4095 {
		t.Fatalf("MaxChunkBlocks(RAW, 1 MiB) = %d, want 4095", MaxChunkBlocks(Raw, 1<<20))
	}
	defer func(old int64) { maxChunkBytes = old }(maxChunkBytes)
	maxChunkBytes = ChunkHeaderSize + 3*bs // at most 3 RAW blocks per chunk
	_, next, _ := images(1, 20)
	simg, chunks := encode(t, next, []Extent{{Block: 2, Blocks: 10}})
	if len(chunks) != 6 || chunks[1].Blocks != 3 || chunks[4].Blocks != 1 {
		t.Fatalf("chunks %v, want DONT_CARE 2, RAW 3+3+3+1, DONT_CARE 8", chunks)
	}
	got := make(writerAt, len(next))
	if _, err := Expand(bytes.NewReader(simg), got, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[2*bs:12*bs], next[2*bs:12*bs]) {
		t.Fatal("split runs expand differently")
	}
}
