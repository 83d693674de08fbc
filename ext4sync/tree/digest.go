package tree

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"sort"
)

// DigestUnit is the granule of content digests: 1 KiB, ext4's smallest
// block, so digests taken once serve images of every block size.
const DigestUnit = 1024

// Digests summarise a regular file's content per Unit bytes, so the sync
// can decide where every block goes (holes, blocks that stay, blocks to
// place anew or to take from elsewhere) before the bytes themselves
// arrive in the source's own order. Entry k covers bytes
// [k*Unit, (k+1)*Unit), zero-padded; it is 0 when those bytes are all
// zeros (a hole), and no other content digests to 0.
//
// Only the non-zero entries are kept, as runs of consecutive ones: the
// memory follows the file's data, not its apparent size (a 4 TiB file
// that is all hole has no run at all).
//
// A digest is a 64-bit keyed hash (hash/maphash, keyed once per process):
// equal content always has equal digests within a process, and different
// content collides with probability 2^-64, which can only cost a worse
// placement: the bytes are always compared before anything is written or
// kept. Digests mean nothing across processes and are never stored.
type Digests struct {
	Unit int   // bytes per entry: DigestUnit, or a block size (Blocks)
	N    int64 // entries: the content's size in Units, rounded up
	Runs []Run // the non-zero entries, ascending and disjoint
}

// Run is a stretch of consecutive non-zero entries, the first at First.
type Run struct {
	First int64
	D     []uint64
}

// Digester is implemented by Contents that know every file's digests
// without another read of the content. The sync asks for them before
// Each; sources that do not implement it are read once more to take them.
type Digester interface {
	// Digests returns the digests (Unit DigestUnit) of the content Each
	// will give for n.
	Digests(n *Node) (Digests, error)
}

// Skipper is a content reader that can pass over bytes the node's Data
// says are a hole without producing them (a local file seeks past them).
// Readers without it have the hole's bytes read and dropped.
type Skipper interface {
	Skip(n int64) error
}

var digestSeed = maphash.MakeSeed()

// DigestUnitOf returns the digest of one unit of content (at most
// DigestUnit bytes, zero-padded).
func DigestUnitOf(b []byte) uint64 {
	if allZero(b) {
		return 0
	}
	if len(b) < DigestUnit {
		var pad [DigestUnit]byte
		copy(pad[:], b)
		b = pad[:]
	}
	return nonZero(maphash.Bytes(digestSeed, b[:DigestUnit]))
}

// Len is the number of non-zero entries.
func (d *Digests) Len() int64 {
	var n int64
	for _, r := range d.Runs {
		n += int64(len(r.D))
	}
	return n
}

// Each calls fn for every non-zero entry, in ascending order.
func (d *Digests) Each(fn func(k int64, v uint64) error) error {
	for _, r := range d.Runs {
		for j, v := range r.D {
			if err := fn(r.First+int64(j), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// At returns entry k: 0 when it is zero content (or past the end).
func (d *Digests) At(k int64) uint64 {
	i := sort.Search(len(d.Runs), func(i int) bool { return d.Runs[i].First+int64(len(d.Runs[i].D)) > k })
	if i < len(d.Runs) && k >= d.Runs[i].First {
		return d.Runs[i].D[k-d.Runs[i].First]
	}
	return 0
}

// Add appends entry k, which must come after every entry added so far;
// zeros are not kept.
func (d *Digests) Add(k int64, v uint64) {
	if v == 0 {
		return
	}
	if n := len(d.Runs); n > 0 && d.Runs[n-1].First+int64(len(d.Runs[n-1].D)) == k {
		d.Runs[n-1].D = append(d.Runs[n-1].D, v)
		return
	}
	d.Runs = append(d.Runs, Run{First: k, D: []uint64{v}})
}

// Spans are the byte ranges of n's content worth reading, each aligned
// to align (a power of two of at least DigestUnit) except where the file
// ends: n.Data rounded out to align and merged, or the whole file when
// Data is nil. Everything outside them is a hole.
func Spans(n *Node, align int64) []Segment {
	if n.Size <= 0 {
		return nil
	}
	if n.Data == nil {
		return []Segment{{Off: 0, Len: n.Size}}
	}
	var out []Segment
	for _, s := range n.Data {
		if s.Len <= 0 || s.Off >= n.Size {
			continue
		}
		start := s.Off &^ (align - 1)
		end := min((s.Off+s.Len+align-1)&^(align-1), n.Size)
		if k := len(out); k > 0 && out[k-1].Off+out[k-1].Len >= start {
			out[k-1].Len = max(out[k-1].Len, end-out[k-1].Off)
			continue
		}
		out = append(out, Segment{Off: start, Len: end - start})
	}
	return out
}

// readPiece is how much DigestContent reads at once.
const readPiece = 64 * DigestUnit

// ReadSpans reads n's content from r, which yields exactly n.Size bytes,
// span by span (Spans at align) into buf (whose length is a multiple of
// align): fn gets each span's bytes in pieces of at most len(buf) that
// start at a multiple of align, as buf[:m]. Holes between spans are
// passed over with Skip when r can, else read and dropped, and so is the
// hole after the last span, so r is at its end when ReadSpans returns.
func ReadSpans(n *Node, r io.Reader, align int64, buf []byte, fn func(off int64, b []byte) error) error {
	if n.Size < 0 {
		return fmt.Errorf("tree: negative content size %d", n.Size)
	}
	piece := int64(len(buf))
	if piece < align || piece%align != 0 {
		return fmt.Errorf("tree: read buffer of %d bytes for spans aligned to %d", piece, align)
	}
	pos := int64(0)
	skip := func(to int64) error {
		if to <= pos {
			return nil
		}
		var err error
		if s, ok := r.(Skipper); ok {
			err = s.Skip(to - pos)
		} else {
			_, err = io.CopyN(io.Discard, r, to-pos)
		}
		if err != nil {
			return fmt.Errorf("pass over the hole at byte %d of %d: %w", pos, n.Size, err)
		}
		pos = to
		return nil
	}
	for _, s := range Spans(n, align) {
		if err := skip(s.Off); err != nil {
			return err
		}
		for end := s.Off + s.Len; pos < end; {
			m := min(piece, end-pos)
			if _, err := io.ReadFull(r, buf[:m]); err != nil {
				return fmt.Errorf("read content at byte %d of %d: %w", pos, n.Size, err)
			}
			if err := fn(pos, buf[:m]); err != nil {
				return err
			}
			pos += m
		}
	}
	return skip(n.Size)
}

// DigestContent reads n's content from r (see ReadSpans) and returns its
// digests per DigestUnit.
func DigestContent(n *Node, r io.Reader) (Digests, error) {
	d := Digests{Unit: DigestUnit, N: (n.Size + DigestUnit - 1) / DigestUnit}
	err := ReadSpans(n, r, DigestUnit, make([]byte, readPiece), func(off int64, b []byte) error {
		for o := 0; o < len(b); o += DigestUnit {
			d.Add((off+int64(o))/DigestUnit, DigestUnitOf(b[o:min(o+DigestUnit, len(b))]))
		}
		return nil
	})
	return d, err
}

// DigestReader reads exactly size bytes from r, all of them, and returns
// their digests per DigestUnit.
func DigestReader(r io.Reader, size int64) (Digests, error) {
	return DigestContent(&Node{Size: size}, r)
}

// Blocks returns the digests per block of bs bytes (a multiple of Unit):
// 0 for an all-zero block, else a digest of its units' digests, equal to
// BlockDigest of the block's bytes.
func (d *Digests) Blocks(bs int) Digests {
	unit := d.Unit
	if unit == 0 {
		unit = DigestUnit
	}
	per := int64(bs / unit)
	if per <= 1 {
		out := *d
		out.Unit = bs
		return out
	}
	out := Digests{Unit: bs, N: (d.N + per - 1) / per}
	var units [64]uint64 // blocks up to 64 KiB, ext4's largest
	u := units[:0]
	if per > int64(len(units)) {
		u = make([]uint64, 0, per)
	}
	u = u[:per]
	cur := int64(-1)
	flush := func() {
		if cur >= 0 {
			have := min(per, d.N-cur*per) // a short last block has fewer
			out.Add(cur, combine(u[:have], int(per)))
			clear(u)
		}
	}
	d.Each(func(k int64, v uint64) error {
		if b := k / per; b != cur {
			flush()
			cur = b
		}
		u[k%per] = v
		return nil
	})
	flush()
	return out
}

// BlockDigest returns the digest of one block (its length a multiple of
// DigestUnit) as Digests.Blocks gives it for content holding those bytes.
func BlockDigest(b []byte) uint64 {
	per := len(b) / DigestUnit
	if per <= 1 {
		return DigestUnitOf(b)
	}
	var units [64]uint64 // blocks up to 64 KiB, ext4's largest
	u := units[:0]
	if per > len(units) {
		u = make([]uint64, 0, per)
	}
	for off := 0; off < len(b); off += DigestUnit {
		u = append(u, DigestUnitOf(b[off:min(off+DigestUnit, len(b))]))
	}
	return combine(u, per)
}

// combine folds the digests of one block's units; units past the content's
// end (a short last block) count as zeros.
func combine(units []uint64, per int) uint64 {
	zero := true
	for _, u := range units {
		if u != 0 {
			zero = false
			break
		}
	}
	if zero {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(digestSeed)
	var b [8]byte
	for k := 0; k < per; k++ {
		var u uint64
		if k < len(units) {
			u = units[k]
		}
		binary.LittleEndian.PutUint64(b[:], u)
		h.Write(b[:])
	}
	return nonZero(h.Sum64())
}

func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
