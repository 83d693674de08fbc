package bound

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// MaxBlockSize is the largest block size a Scan takes (ext4's largest).
const MaxBlockSize = 64 << 10

// Scan watches one pass over the base and the new image, block by block:
// it hashes every block of the base and notes the blocks that differ. Feed
// it with blockmap.DiffOptions.Window (or any reader of both images that
// hands over every byte in order), then call Finish.
type Scan struct {
	bs       int64
	next     int64  // bytes seen so far
	oldPart  []byte // the start of a block a window ended in
	newPart  []byte
	base     []uint64 // hash of every base block
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
	if blockSize <= 0 || blockSize > MaxBlockSize {
		return nil, fmt.Errorf("bound: block size %d: must be from 1 to %d bytes", blockSize, MaxBlockSize)
	}
	return &Scan{bs: blockSize}, nil
}

// Window takes the next bytes of both images (the same number of each).
func (s *Scan) Window(old, new []byte) {
	if s.err != nil || s.finished {
		return
	}
	if len(old) != len(new) {
		s.err = fmt.Errorf("bound: window at byte %d: %d bytes of the base, %d of the new image", s.next, len(old), len(new))
		return
	}
	if n := len(s.oldPart); n > 0 {
		take := min(int(s.bs)-n, len(old))
		s.oldPart = append(s.oldPart, old[:take]...)
		s.newPart = append(s.newPart, new[:take]...)
		old, new = old[take:], new[take:]
		if int64(len(s.oldPart)) < s.bs {
			return
		}
		s.block(s.oldPart, s.newPart)
		s.oldPart, s.newPart = s.oldPart[:0], s.newPart[:0]
	}
	for int64(len(old)) >= s.bs {
		s.block(old[:s.bs], new[:s.bs])
		old, new = old[s.bs:], new[s.bs:]
	}
	s.oldPart = append(s.oldPart, old...)
	s.newPart = append(s.newPart, new...)
}

// block takes one whole block (or the image's short last one).
func (s *Scan) block(old, new []byte) {
	blk := uint64(s.next / s.bs)
	s.next += int64(len(old))
	s.base = append(s.base, blockHash(old))
	if bytes.Equal(old, new) {
		return
	}
	end := len(new)
	for end > 0 && new[end-1] == 0 {
		end--
	}
	c := changedBlock{blk: blk, free: bytes.Equal(old[:end], new[:end])}
	if !c.free {
		c.hash = blockHash(new)
	}
	s.changed = append(s.changed, c)
}

// Finish ends the pass (a short last block counts as a block) and returns
// what it found. The scan takes no more windows after it.
func (s *Scan) Finish() (*Scanned, error) {
	if s.err != nil {
		return nil, s.err
	}
	if !s.finished && len(s.oldPart) > 0 {
		s.block(s.oldPart, s.newPart)
	}
	s.finished = true
	base := slices.Clone(s.base)
	slices.Sort(base)
	return &Scanned{blockSize: s.bs, size: s.next, base: slices.Compact(base), changed: s.changed}, nil
}

// Scanned is what a finished Scan found.
type Scanned struct {
	blockSize int64
	size      int64    // bytes of each image
	base      []uint64 // hashes of the base's blocks, sorted, distinct
	changed   []changedBlock
}

// BlockSize is the block size the images were scanned in.
func (r *Scanned) BlockSize() int64 { return r.blockSize }

// ChangedBlocks is the number of blocks that differ.
func (r *Scanned) ChangedBlocks() int64 { return int64(len(r.changed)) }

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
