package bound

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// MaxBlockSize is the largest block size a Scan takes (ext4's largest).
const MaxBlockSize = 64 << 10

// Scan watches one pass over the base and the new image, block by block:
// it hashes every block of the base and notes the blocks that differ. Feed
// it with blockmap.DiffOptions.Window (or any reader of both images that
// hands over every byte in order), then call Finish.
//
// When the blocks that may differ are known (a sync's overlay knows them),
// BaseScan and ExamineChanged do the same work without reading the whole
// new image: the base is hashed alone (it can be, while the sync runs) and
// only the candidate blocks of both images are read.
type Scan struct {
	base     *BaseScan
	oldPart  []byte // the start of a block a window ended in
	newPart  []byte
	changed  []changedBlock
	err      error
	finished bool
}

// changedBlock is a block of the new image that differs from the base's.
type changedBlock struct {
	blk  uint64
	hash uint64
	// free: the block is all zeros, or the base block at its place holds
	// its bytes up to its last non-zero byte, so it need not be written.
	free bool
}

// NewScan returns a scan of images with blocks of blockSize bytes.
func NewScan(blockSize int64) (*Scan, error) {
	b, err := NewBaseScan(blockSize)
	if err != nil {
		return nil, err
	}
	return &Scan{base: b}, nil
}

// Window takes the next bytes of both images (the same number of each).
func (s *Scan) Window(old, new []byte) {
	if s.err != nil || s.finished {
		return
	}
	if len(old) != len(new) {
		s.err = fmt.Errorf("bound: window at byte %d: %d bytes of the base, %d of the new image", s.base.next, len(old), len(new))
		return
	}
	bs := s.base.bs
	if n := len(s.oldPart); n > 0 {
		take := min(int(bs)-n, len(old))
		s.oldPart = append(s.oldPart, old[:take]...)
		s.newPart = append(s.newPart, new[:take]...)
		old, new = old[take:], new[take:]
		if int64(len(s.oldPart)) < bs {
			return
		}
		s.block(s.oldPart, s.newPart)
		s.oldPart, s.newPart = s.oldPart[:0], s.newPart[:0]
	}
	for int64(len(old)) >= bs {
		s.block(old[:bs], new[:bs])
		old, new = old[bs:], new[bs:]
	}
	s.oldPart = append(s.oldPart, old...)
	s.newPart = append(s.newPart, new...)
}

// block takes one whole block (or the image's short last one).
func (s *Scan) block(old, new []byte) {
	blk := uint64(s.base.next / s.base.bs)
	s.base.block(old)
	if c, differs := compareBlock(blk, old, new); differs {
		s.changed = append(s.changed, c)
	}
}

// compareBlock compares block blk of the base (old) and of the new image;
// when they differ it returns what the bound needs of the new one.
func compareBlock(blk uint64, old, new []byte) (changedBlock, bool) {
	if bytes.Equal(old, new) {
		return changedBlock{}, false
	}
	end := len(new)
	for end > 0 && new[end-1] == 0 {
		end--
	}
	c := changedBlock{blk: blk, free: bytes.Equal(old[:end], new[:end])}
	if !c.free {
		c.hash = blockHash(new)
	}
	return c, true
}

// Finish ends the pass (a short last block counts as a block) and returns
// what it found. The scan takes no more windows after it.
func (s *Scan) Finish() (*Scanned, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.finished && len(s.oldPart) > 0 {
		s.block(s.oldPart, s.newPart)
		s.oldPart, s.newPart = nil, nil
	}
	s.finished = true
	h, err := s.base.Finish()
	if err != nil {
		return nil, err
	}
	return h.with(s.changed), nil
}

// BaseScan hashes every block of the base in one pass: feed it the base's
// bytes in order with Window, then call Finish. It keeps 8 bytes per
// block that is not all zeros.
type BaseScan struct {
	bs       int64
	next     int64  // bytes seen so far
	part     []byte // the start of a block a window ended in
	hashes   []uint64
	zero     bool // some whole block is all zeros
	finished bool
}

// NewBaseScan returns a scan of a base image with blocks of blockSize
// bytes.
func NewBaseScan(blockSize int64) (*BaseScan, error) {
	if blockSize <= 0 || blockSize > MaxBlockSize {
		return nil, fmt.Errorf("bound: block size %d: must be from 1 to %d bytes", blockSize, MaxBlockSize)
	}
	return &BaseScan{bs: blockSize}, nil
}

// Window takes the next bytes of the base.
func (s *BaseScan) Window(b []byte) {
	if s.finished {
		return
	}
	if n := len(s.part); n > 0 {
		take := min(int(s.bs)-n, len(b))
		s.part = append(s.part, b[:take]...)
		b = b[take:]
		if int64(len(s.part)) < s.bs {
			return
		}
		s.block(s.part)
		s.part = s.part[:0]
	}
	for int64(len(b)) >= s.bs {
		s.block(b[:s.bs])
		b = b[s.bs:]
	}
	s.part = append(s.part, b...)
}

// Zeros takes the next n bytes of the base when they are known to be all
// zeros (a hole of the file it is read from), as Window would take them,
// without their bytes: whole blocks of them cost nothing.
func (s *BaseScan) Zeros(n int64) {
	if s.finished || n <= 0 {
		return
	}
	if k := int64(len(s.part)); k > 0 {
		take := min(s.bs-k, n)
		s.part = append(s.part, zeroBlock[:take]...)
		n -= take
		if int64(len(s.part)) < s.bs {
			return
		}
		s.block(s.part)
		s.part = s.part[:0]
	}
	if whole := n / s.bs * s.bs; whole > 0 {
		s.zero = true
		s.next += whole
		n -= whole
	}
	s.part = append(s.part, zeroBlock[:n]...)
}

// zeroBlock is a block of zeros of the largest size.
var zeroBlock [MaxBlockSize]byte

// block takes one whole block (or the image's short last one). All-zero
// whole blocks hash alike, so one flag stands for them all.
func (s *BaseScan) block(b []byte) {
	s.next += int64(len(b))
	if int64(len(b)) == s.bs && allZero(b) {
		s.zero = true
		return
	}
	s.hashes = append(s.hashes, blockHash(b))
}

// Finish ends the pass (a short last block counts as a block) and returns
// the base's block hashes. The scan takes no more windows after it.
func (s *BaseScan) Finish() (*BaseHashes, error) {
	if !s.finished {
		if len(s.part) > 0 {
			s.block(s.part)
			s.part = nil
		}
		if s.zero {
			s.hashes = append(s.hashes, blockHash(make([]byte, s.bs)))
		}
		slices.Sort(s.hashes)
		s.hashes = slices.Compact(s.hashes)
		s.finished = true
	}
	return &BaseHashes{blockSize: s.bs, size: s.next, hashes: s.hashes}, nil
}

// BaseHashes is what a BaseScan found: the hash of every block of the
// base, sorted and distinct.
type BaseHashes struct {
	blockSize int64
	size      int64 // bytes of the base
	hashes    []uint64
}

// BlockSize is the block size the base was hashed in.
func (h *BaseHashes) BlockSize() int64 { return h.blockSize }

// Size is the number of bytes of the base hashed.
func (h *BaseHashes) Size() int64 { return h.size }

// with is the Scanned of the base hashed as h and the new image's blocks
// that differ from it.
func (h *BaseHashes) with(changed []changedBlock) *Scanned {
	return &Scanned{blockSize: h.blockSize, size: h.size, base: h.hashes, changed: changed}
}

// examineWindow bounds the bytes ExamineChanged reads at once from each
// image.
const examineWindow = 1 << 20

// ExamineChanged compares base and img (both h's size) inside changes,
// sorted and disjoint byte ranges outside which the two are known to be
// equal (e.g. the blocks a sync's overlay changed), in reads of up to
// 1 MiB, and returns what a full Scan of both would have found.
func ExamineChanged(base, img io.ReaderAt, h *BaseHashes, changes []blockmap.Range) (*Scanned, error) {
	bs, size := h.blockSize, h.size
	old, new := make([]byte, examineWindow), make([]byte, examineWindow)
	var changed []changedBlock
	last := int64(-1)
	for _, r := range changes {
		if r.Off < 0 || r.Len < 0 || r.End() > size {
			return nil, fmt.Errorf("bound: changed range %d+%d outside the %d-byte image", r.Off, r.Len, size)
		}
		start := r.Off / bs * bs
		if start <= last {
			start = last + bs // the block was taken with the previous range
		}
		for pos := start; pos < r.End(); {
			n := min(int64(examineWindow), (r.End()+bs-1)/bs*bs-pos, size-pos)
			if err := readFull(base, old[:n], pos, "base"); err != nil {
				return nil, err
			}
			if err := readFull(img, new[:n], pos, "new image"); err != nil {
				return nil, err
			}
			for o := int64(0); o < n; o += bs {
				e := min(o+bs, n)
				if c, differs := compareBlock(uint64((pos+o)/bs), old[o:e], new[o:e]); differs {
					changed = append(changed, c)
				}
				last = pos + o
			}
			pos += n
		}
	}
	return h.with(changed), nil
}

// readFull reads exactly len(p) bytes of r at off.
func readFull(r io.ReaderAt, p []byte, off int64, which string) error {
	if n, err := r.ReadAt(p, off); n != len(p) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("bound: read %d bytes of the %s at byte %d: %w", len(p), which, off, err)
	}
	return nil
}

// allZero reports whether b holds only zeros, 32 bytes a step.
func allZero(b []byte) bool {
	le := binary.LittleEndian
	for len(b) >= 32 {
		if le.Uint64(b)|le.Uint64(b[8:])|le.Uint64(b[16:])|le.Uint64(b[24:]) != 0 {
			return false
		}
		b = b[32:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Scanned is what a finished Scan found.
type Scanned struct {
	blockSize int64
	size      int64    // bytes of each image
	base      []uint64 // hashes of the base's blocks, sorted, distinct
	changed   []changedBlock
}

// Changed returns the blocks that differ as sorted, disjoint byte ranges
// (the image's short last block cut at its end), as attrib.Classify takes
// them.
func (r *Scanned) Changed() []blockmap.Range {
	var rs []blockmap.Range
	for _, c := range r.changed {
		off := int64(c.blk) * r.blockSize
		n := min(r.blockSize, r.size-off)
		if k := len(rs) - 1; k >= 0 && rs[k].End() == off {
			rs[k].Len += n
			continue
		}
		rs = append(rs, blockmap.Range{Off: off, Len: n})
	}
	return rs
}

// baseHolds reports whether some block of the base hashes to h.
func (r *Scanned) baseHolds(h uint64) bool {
	_, ok := slices.BinarySearch(r.base, h)
	return ok
}
