package manifest

import (
	"bufio"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// DefaultMaxImageBytes is Decode's limit on the image a manifest may
// describe when the caller gives none: 64 GiB, 128 MiB of hashes at 4 KiB
// chunks. A device passes its volume's size instead.
const DefaultMaxImageBytes = 64 << 30

// Encode returns the manifest as the meta-data string (see the package
// doc). It fails for a manifest that does not Validate. The same manifest
// always gives the same string.
func (m *Manifest) Encode() (string, error) {
	if err := m.Validate(); err != nil {
		return "", err
	}
	var out strings.Builder
	b64 := base64.NewEncoder(base64.StdEncoding, &out)
	zw, err := flate.NewWriter(b64, flate.DefaultCompression)
	if err != nil {
		return "", err
	}
	bw := bufio.NewWriterSize(zw, 64<<10)
	le := binary.LittleEndian
	hdr := make([]byte, headerBytes)
	copy(hdr, magic)
	le.PutUint16(hdr[4:], Version)
	le.PutUint16(hdr[6:], blockmap.ChunkHashSize)
	le.PutUint64(hdr[8:], uint64(m.ChunkBytes))
	le.PutUint64(hdr[16:], uint64(m.WriteUnitBytes))
	le.PutUint64(hdr[24:], uint64(m.ImageBytes))
	copy(hdr[32:], m.BaseSHA256[:])
	copy(hdr[64:], m.ImageSHA256[:])
	le.PutUint64(hdr[96:], uint64(len(m.Base)))
	le.PutUint64(hdr[104:], uint64(len(m.Changed)))
	bw.Write(hdr)
	var h [blockmap.ChunkHashSize]byte
	for _, s := range m.Base {
		binary.BigEndian.PutUint64(h[:], uint64(s))
		bw.Write(h[:])
	}
	var gap [binary.MaxVarintLen64]byte
	prev := int64(-1)
	for _, c := range m.Changed {
		bw.Write(gap[:binary.PutUvarint(gap[:], uint64(c.Index-prev-1))])
		binary.BigEndian.PutUint64(h[:], uint64(c.Hash))
		bw.Write(h[:])
		prev = c.Index
	}
	for _, step := range []func() error{bw.Flush, zw.Close, b64.Close} {
		if err := step(); err != nil {
			return "", err
		}
	}
	return out.String(), nil
}

// Decode parses and validates an encoded manifest. maxImageBytes bounds
// the image it may describe (<= 0: DefaultMaxImageBytes), so a hostile
// manifest cannot make the reader allocate more than 8 bytes per chunk of
// that; memory grows only as hashes actually arrive.
func Decode(text string, maxImageBytes int64) (*Manifest, error) {
	if maxImageBytes <= 0 {
		maxImageBytes = DefaultMaxImageBytes
	}
	// flate reads exactly its stream from an io.ByteReader, so whatever
	// is left in src afterwards is trailing garbage.
	src := bufio.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(text)))
	zr := flate.NewReader(src)
	defer zr.Close()
	r := bufio.NewReaderSize(zr, 64<<10)
	m, err := decode(r, maxImageBytes)
	if err != nil {
		return nil, err
	}
	if _, err := src.ReadByte(); err == nil {
		return nil, invalid("bytes after the DEFLATE stream")
	} else if !errors.Is(err, io.EOF) {
		return nil, readErr(err, "the end")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

// readErr turns a stream error into the manifest's error: the end of the
// stream before the layout is complete is truncation; a corrupt base64 or
// DEFLATE stream is invalid content too.
func readErr(err error, what string) error {
	var b64 base64.CorruptInputError
	var fl flate.CorruptInputError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("truncated in %s", what)
	case errors.As(err, &b64):
		return invalid("not base64: %v", err)
	case errors.As(err, &fl):
		return invalid("not a DEFLATE stream: %v", err)
	}
	return fmt.Errorf("manifest: read %s: %w", what, err)
}

func decode(r *bufio.Reader, maxImageBytes int64) (*Manifest, error) {
	hdr := make([]byte, headerBytes)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, readErr(err, "the header")
	}
	if string(hdr[:4]) != magic {
		return nil, invalid("magic %q, want %q: not an lvm-um manifest", hdr[:4], magic)
	}
	le := binary.LittleEndian
	if v := le.Uint16(hdr[4:]); v != Version {
		return nil, invalid("format version %d, this reader knows %d", v, Version)
	}
	if hb := le.Uint16(hdr[6:]); hb != blockmap.ChunkHashSize {
		return nil, invalid("%d-byte chunk hashes, want %d", hb, blockmap.ChunkHashSize)
	}
	chunk, unit, size := le.Uint64(hdr[8:]), le.Uint64(hdr[16:]), le.Uint64(hdr[24:])
	nBase, nChanged := le.Uint64(hdr[96:]), le.Uint64(hdr[104:])
	if size > uint64(maxImageBytes) {
		return nil, invalid("image of %d bytes: more than the %d allowed here", size, maxImageBytes)
	}
	if chunk > blockmap.MaxChunk || unit > 1<<62 {
		return nil, invalid("chunk size %d or write unit %d out of range", chunk, unit)
	}
	m := &Manifest{ChunkBytes: int64(chunk), WriteUnitBytes: int64(unit), ImageBytes: int64(size)}
	copy(m.BaseSHA256[:], hdr[32:])
	copy(m.ImageSHA256[:], hdr[64:])
	if err := m.Model().Validate(); err != nil {
		return nil, invalid("%v", err)
	}
	if nBase != uint64(m.Chunks()) {
		return nil, invalid("%d base hashes for an image of %d bytes in %d-byte chunks (%d chunks)", nBase, size, chunk, m.Chunks())
	}
	if nChanged > nBase {
		return nil, invalid("%d changed chunks of %d", nChanged, nBase)
	}
	var h [blockmap.ChunkHashSize]byte
	const batch = 1 << 16 // grow as data arrives, not as the header claims
	for i := uint64(0); i < nBase; i++ {
		if i%batch == 0 {
			m.Base = growTo(m.Base, min(nBase, i+batch))
		}
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, readErr(err, fmt.Sprintf("base hash %d of %d", i, nBase))
		}
		m.Base = append(m.Base, blockmap.ChunkHash(binary.BigEndian.Uint64(h[:])))
	}
	prev := int64(-1)
	for i := uint64(0); i < nChanged; i++ {
		if i%batch == 0 {
			m.Changed = growTo(m.Changed, min(nChanged, i+batch))
		}
		gap, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, readErr(err, fmt.Sprintf("changed chunk %d of %d", i, nChanged))
		}
		if gap >= nBase || uint64(prev+1)+gap >= nBase {
			return nil, invalid("changed chunk %d of %d: index %d+%d out of the image's %d chunks", i, nChanged, prev+1, gap, nBase)
		}
		idx := prev + 1 + int64(gap)
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return nil, readErr(err, fmt.Sprintf("changed chunk %d of %d", i, nChanged))
		}
		m.Changed = append(m.Changed, blockmap.ChangedChunk{Index: idx, Hash: blockmap.ChunkHash(binary.BigEndian.Uint64(h[:]))})
		prev = idx
	}
	if _, err := r.ReadByte(); err == nil {
		return nil, invalid("bytes after the last changed chunk")
	} else if !errors.Is(err, io.EOF) {
		return nil, readErr(err, "the end")
	}
	return m, nil
}

// growTo makes room for n elements in total.
func growTo[T any](s []T, n uint64) []T {
	if uint64(cap(s)) >= n {
		return s
	}
	out := make([]T, len(s), n)
	copy(out, s)
	return out
}
