package manifest

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// sample is a manifest of an image of chunks chunks (the last one short
// when short is set) with some zero chunks and a few changed ones.
func sample(seed uint64, chunks int64, short bool) *Manifest {
	r := rand.New(rand.NewPCG(seed, 9))
	size := chunks * 4096
	if short && chunks > 0 {
		size -= 1024
	}
	m := &Manifest{ChunkBytes: 4096, WriteUnitBytes: 4096, ImageBytes: size,
		BaseSHA256: sha256.Sum256([]byte("base")), ImageSHA256: sha256.Sum256([]byte("new"))}
	zero := blockmap.HashChunk(make([]byte, 4096))
	for i := int64(0); i < chunks; i++ {
		h := zero
		if r.IntN(2) == 0 {
			h = blockmap.ChunkHash(r.Uint64())
		}
		m.Base = append(m.Base, h)
	}
	for i := int64(0); i < chunks; i++ {
		if r.IntN(20) == 0 {
			m.Changed = append(m.Changed, blockmap.ChangedChunk{Index: i, Hash: m.Base[i] ^ 1})
		}
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct {
		chunks int64
		short  bool
	}{{0, false}, {1, false}, {1, true}, {1000, false}, {115200, true}} {
		m := sample(uint64(c.chunks), c.chunks, c.short)
		text, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		again, _ := m.Encode()
		if again != text {
			t.Fatal("Encode is not deterministic")
		}
		got, err := Decode(text, m.ImageBytes)
		if err != nil {
			t.Fatalf("%d chunks: %v", c.chunks, err)
		}
		if got.Base == nil {
			got.Base = []blockmap.ChunkHash{}
		}
		if m.Base == nil {
			m.Base = []blockmap.ChunkHash{}
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("%d chunks: decoded manifest differs", c.chunks)
		}
		if c.chunks == 115200 {
			// 450 MiB, half of it zero chunks: well under the 8 bytes
			// per chunk of the raw hashes even after base64.
			t.Logf("450 MiB image, half zero: %d bytes encoded (raw hashes %d)", len(text), 8*c.chunks)
			if int64(len(text)) > 8*c.chunks {
				t.Fatalf("encoded %d bytes, more than the raw %d", len(text), 8*c.chunks)
			}
		}
	}
}

func TestCostFromManifest(t *testing.T) {
	m := sample(5, 2000, false)
	rel, err := m.ReleaseCost()
	if err != nil {
		t.Fatal(err)
	}
	dc, err := m.CostOn(m.Base, 0)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Result != rel || rel.ChunksWritten != int64(len(m.Changed)) {
		t.Fatalf("undrifted device %+v, release %+v", dc.Result, rel)
	}
	drifted := append([]blockmap.ChunkHash(nil), m.Base...)
	drifted[0] ^= 7
	dc, err = m.CostOn(drifted, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if dc.DriftedChunks != 1 || dc.Result.WriteUnit != 1<<20 {
		t.Fatalf("one drifted chunk at W=1MiB: %+v", dc)
	}
	if m.IsChanged(m.Changed[0].Index) != true || m.NewHash(m.Changed[0].Index) != m.Changed[0].Hash {
		t.Fatal("IsChanged/NewHash disagree with Changed")
	}
	c := m.Changed[0].Index
	if err := m.CheckDeltaRange(c*4096, 4096); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{c * 4096, 8192 * 1000}, {-1, 5}, {0, 0}, {m.ImageBytes, 1}} {
		if err := m.CheckDeltaRange(r[0], r[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckDeltaRange(%d, %d) = %v", r[0], r[1], err)
		}
	}
}

// rawHeader is a valid header for chunks 4 KiB chunks with changed entries.
func rawHeader(chunks, changed uint64) []byte {
	b := make([]byte, headerBytes)
	copy(b, magic)
	le := binary.LittleEndian
	le.PutUint16(b[4:], Version)
	le.PutUint16(b[6:], 8)
	le.PutUint64(b[8:], 4096)
	le.PutUint64(b[16:], 4096)
	le.PutUint64(b[24:], chunks*4096)
	le.PutUint64(b[96:], chunks)
	le.PutUint64(b[104:], changed)
	return b
}

func deflate(raw []byte) string {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	zw.Write(raw)
	zw.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestHostile: every malformed manifest gives a one-line error wrapping
// ErrInvalid, never a panic.
func TestHostile(t *testing.T) {
	hashes := func(n int) []byte { return bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8}, n) }
	entry := func(gap uint64, h byte) []byte {
		return append(binary.AppendUvarint(nil, gap), 0, 0, 0, 0, 0, 0, 0, h)
	}
	valid := append(append(rawHeader(4, 1), hashes(4)...), entry(2, 9)...)
	if _, err := Decode(deflate(valid), 0); err != nil {
		t.Fatalf("the valid base of the hostile cases fails: %v", err)
	}
	mut := func(off int, v ...byte) []byte {
		b := bytes.Clone(valid)
		copy(b[off:], v)
		return b
	}
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	cases := map[string]string{
		"not base64":          "@@@@",
		"not deflate":         base64.StdEncoding.EncodeToString([]byte("plain text, not deflate")),
		"empty":               "",
		"wrong magic":         deflate(mut(0, 'X')),
		"version 2":           deflate(mut(4, 2)),
		"hash size 32":        deflate(mut(6, 32)),
		"chunk 3000":          deflate(mut(8, le64(3000)...)),
		"chunk 1 MiB":         deflate(mut(8, le64(1<<20)...)),
		"chunk 2^63":          deflate(mut(8, le64(1<<63)...)),
		"write unit 0":        deflate(mut(16, le64(0)...)),
		"size overflows":      deflate(mut(24, le64(1<<63+5)...)),
		"size over limit":     deflate(mut(24, le64(1<<40)...)),
		"count disagrees":     deflate(mut(96, le64(5)...)),
		"changed > chunks":    deflate(mut(104, le64(5)...)),
		"changed count huge":  deflate(mut(104, le64(1<<62)...)),
		"chunk out of range":  deflate(append(append(rawHeader(4, 1), hashes(4)...), entry(4, 9)...)),
		"gap overflows":       deflate(append(append(rawHeader(4, 2), hashes(4)...), append(entry(1, 9), entry(1<<64-1, 9)...)...)),
		"changed = base hash": deflate(append(append(rawHeader(4, 1), hashes(4)...), append(binary.AppendUvarint(nil, 0), hashes(1)...)...)),
		"trailing bytes":      deflate(append(bytes.Clone(valid), 0)),
		"trailing after flate": func() string {
			var buf bytes.Buffer
			zw, _ := flate.NewWriter(&buf, flate.BestSpeed)
			zw.Write(valid)
			zw.Close()
			buf.WriteString("junk")
			return base64.StdEncoding.EncodeToString(buf.Bytes())
		}(),
	}
	for i := 0; i < len(valid); i++ {
		cases["truncated at "+string(rune('a'+i%26))+strings.Repeat("'", i/26)] = deflate(valid[:i])
	}
	for name, text := range cases {
		_, err := Decode(text, 1<<30)
		if !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want a one-line ErrInvalid", name, err)
		}
	}
}

func TestMetaData(t *testing.T) {
	m := sample(7, 64, false)
	text, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{
		MetaKey: text, MetaBaseSHA256: hex.EncodeToString(m.BaseSHA256[:]),
		MetaChunk: m.ChunkBytes, MetaWriteUnit: m.WriteUnitBytes, MetaImageBytes: m.ImageBytes,
		MetaPredictedCOW: 12345,
	}
	data, _ := json.Marshal(meta)
	got, err := ParseMetaData(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.ImageBytes != m.ImageBytes || len(got.Changed) != len(m.Changed) {
		t.Fatal("ParseMetaData lost data")
	}
	if err := got.CheckBase(hex.EncodeToString(m.BaseSHA256[:])); err != nil {
		t.Fatal(err)
	}
	other := sha256.Sum256([]byte("another base"))
	if err := got.CheckBase(hex.EncodeToString(other[:])); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "made for the base") {
		t.Fatalf("another base: %v", err)
	}
	bad := map[string]func(map[string]any){
		"no manifest":        func(x map[string]any) { delete(x, MetaKey) },
		"manifest a number":  func(x map[string]any) { x[MetaKey] = 5 },
		"another base":       func(x map[string]any) { x[MetaBaseSHA256] = hex.EncodeToString(other[:]) },
		"base not hex":       func(x map[string]any) { x[MetaBaseSHA256] = "xyz" },
		"no base":            func(x map[string]any) { delete(x, MetaBaseSHA256) },
		"chunk disagrees":    func(x map[string]any) { x[MetaChunk] = 8192 },
		"unit disagrees":     func(x map[string]any) { x[MetaWriteUnit] = 1 << 20 },
		"size disagrees":     func(x map[string]any) { x[MetaImageBytes] = 1 },
		"size not a number":  func(x map[string]any) { x[MetaImageBytes] = "big" },
		"size not integer":   func(x map[string]any) { x[MetaImageBytes] = 1.5 },
		"size huge":          func(x map[string]any) { x[MetaImageBytes] = 1e300 },
		"no write unit":      func(x map[string]any) { delete(x, MetaWriteUnit) },
		"image over a limit": nil,
	}
	for name, f := range bad {
		x := map[string]any{}
		for k, v := range meta {
			x[k] = v
		}
		limit := int64(0)
		if f == nil {
			limit = 4096
		} else {
			f(x)
		}
		data, _ := json.Marshal(x)
		if _, err := ParseMetaData(data, limit); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := ParseMetaData([]byte("[1,2]"), 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("not an object: %v", err)
	}
}

func BenchmarkEncode450MiB(b *testing.B) {
	m := sample(1, 115200, false)
	for b.Loop() {
		if _, err := m.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode450MiB(b *testing.B) {
	m := sample(1, 115200, false)
	text, _ := m.Encode()
	for b.Loop() {
		if _, err := Decode(text, 0); err != nil {
			b.Fatal(err)
		}
	}
}
