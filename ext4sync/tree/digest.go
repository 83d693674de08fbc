package tree

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
)

// DigestUnit is the granule of content digests: 1 KiB, ext4's smallest
// block, so digests taken once serve images of every block size.
const DigestUnit = 1024

// Digests summarises a regular file's content per DigestUnit bytes, so the
// sync can decide where every block goes (holes, blocks that stay, blocks
// to place anew or to take from elsewhere) before the bytes themselves
// arrive in the source's own order. Entry k covers bytes
// [k*DigestUnit, (k+1)*DigestUnit) zero-padded; 0 means all zeros (a hole)
// and no other content digests to 0.
//
// A digest is a 64-bit keyed hash (hash/maphash, keyed once per process):
// equal content always has equal digests within a process, and different
// content collides with probability 2^-64, which can only cost a worse
// placement: the bytes are always compared before anything is written or
// kept. Digests mean nothing across processes and are never stored.
type Digests []uint64

// Digester is implemented by Contents that know every file's digests
// without another read of the content (a tar source reads it once anyway
// to index the archive). The sync asks for them before Each; sources that
// do not implement it are read once more to take them.
type Digester interface {
	// Digests returns the digests of the content Each will give for n.
	Digests(n *Node) (Digests, error)
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

// DigestReader reads exactly size bytes from r and returns their digests.
func DigestReader(r io.Reader, size int64) (Digests, error) {
	if size < 0 {
		return nil, fmt.Errorf("tree: negative content size %d", size)
	}
	n := (size + DigestUnit - 1) / DigestUnit
	d := make(Digests, 0, n)
	buf := make([]byte, 64*DigestUnit)
	for left := size; left > 0; {
		m := min(int64(len(buf)), left)
		if _, err := io.ReadFull(r, buf[:m]); err != nil {
			return nil, fmt.Errorf("read content at byte %d of %d: %w", size-left, size, err)
		}
		for off := int64(0); off < m; off += DigestUnit {
			d = append(d, DigestUnitOf(buf[off:min(off+DigestUnit, m)])) // zero-padded
		}
		left -= m
	}
	return d, nil
}

// Blocks returns one digest per block of bs bytes (a multiple of
// DigestUnit): 0 for an all-zero block, else a digest of its units'
// digests, equal to BlockDigest of the block's bytes.
func (d Digests) Blocks(bs int) []uint64 {
	per := bs / DigestUnit
	if per <= 1 {
		return append([]uint64(nil), d...)
	}
	out := make([]uint64, 0, (len(d)+per-1)/per)
	for k := 0; k < len(d); k += per {
		out = append(out, combine(d[k:min(k+per, len(d))], per))
	}
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
