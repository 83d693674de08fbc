package extent

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Errors Read wraps; test with errors.Is.
var (
	// ErrCorrupt marks a tree that breaks an on-disk rule.
	ErrCorrupt = errors.New("corrupt extent tree")
	// ErrChecksum marks a tree block whose checksum tail does not match.
	ErrChecksum = errors.New("extent block checksum mismatch")
)

// Block sizes ext4 allows.
const (
	minBlockSize = 1024
	maxBlockSize = 65536
)

// rootBlock stands for the inode's i_block in error locations.
const rootBlock = ^uint64(0)

// Read walks the extent tree whose root is the 60-byte i_block in root,
// reading node blocks through r. It checks every rule e2fsck checks on the
// tree's own structure: header magic, eh_entries <= eh_max, eh_max for the
// node size, depth (at most MaxDepth, one less per level), index entries
// sorted and equal to their child's first logical block, extents sorted,
// non-empty, non-overlapping and inside their index range, node and data
// blocks inside [FirstDataBlock, BlocksCount) and (when opt.Metadata is
// set) clear of filesystem metadata, no node reached twice, and (when
// opt.Csum) the checksum tail of every node block.
func Read(root []byte, r Reader, opt Options) (*Tree, error) {
	w := &walker{r: r, opt: opt, visited: map[uint64]bool{}}
	if len(root) < RootSize {
		return nil, w.errf(rootBlock, "i_block is %d bytes, want %d", len(root), RootSize)
	}
	if opt.BlocksCount == 0 || opt.FirstDataBlock >= opt.BlocksCount {
		return nil, fmt.Errorf("extent: inode %d: options: block range [%d, %d) is empty", opt.Ino, opt.FirstDataBlock, opt.BlocksCount)
	}
	w.bs = r.BlockSize()
	if w.bs < minBlockSize || w.bs > maxBlockSize || w.bs&(w.bs-1) != 0 {
		return nil, fmt.Errorf("extent: inode %d: block size %d is not a valid ext4 block size", opt.Ino, w.bs)
	}
	h := DecodeHeader(root)
	if err := w.checkHeader(rootBlock, h, RootMax); err != nil {
		return nil, err
	}
	if h.Depth > MaxDepth {
		return nil, w.errf(rootBlock, "depth %d exceeds %d", h.Depth, MaxDepth)
	}
	w.t = &Tree{Depth: int(h.Depth)}
	if h.Depth > 0 {
		w.t.Levels, w.t.Entries = make([][]uint64, h.Depth), make([][]int, h.Depth)
	}
	copy(w.t.Root[:], root[:RootSize])
	if err := w.node(rootBlock, root, h, 0, maxLogicalEnd); err != nil {
		return nil, err
	}
	return w.t, nil
}

// walker carries one Read's state: the tree being filled, the nodes seen
// (loop detection) and the lowest logical block the next extent may use.
type walker struct {
	r       Reader
	opt     Options
	bs      int
	visited map[uint64]bool
	t       *Tree
	next    uint64
}

func (w *walker) errf(blk uint64, format string, args ...any) error {
	where := "i_block"
	if blk != rootBlock {
		where = fmt.Sprintf("block %d", blk)
	}
	return fmt.Errorf("ext4: inode %d extent node %s: %s: %w", w.opt.Ino, where, fmt.Sprintf(format, args...), ErrCorrupt)
}

// checkHeader applies ext2fs_extent_header_verify's rules for a node whose
// computed capacity is max.
func (w *walker) checkHeader(blk uint64, h Header, max int) error {
	if h.Magic != Magic {
		return w.errf(blk, "bad magic %#04x", h.Magic)
	}
	if h.Entries > h.Max {
		return w.errf(blk, "%d entries exceed eh_max %d", h.Entries, h.Max)
	}
	if int(h.Max) > max || int(h.Max) < max-maxSlack {
		return w.errf(blk, "eh_max %d does not fit a node of %d entries", h.Max, max)
	}
	return nil
}

// inRange reports whether blocks [start, start+n) are all valid data blocks.
func (w *walker) inRange(start, n uint64) bool {
	return start >= w.opt.FirstDataBlock && start < w.opt.BlocksCount && n <= w.opt.BlocksCount-start
}

// metadata names the filesystem metadata among blocks [start, start+n),
// or "" (also when the caller gave no Options.Metadata).
func (w *walker) metadata(start, n uint64) string {
	if w.opt.Metadata == nil {
		return ""
	}
	return w.opt.Metadata(start, n)
}

// node checks one node (already header-checked) whose extents must lie in
// logical blocks [lo, hi), and descends into its children.
func (w *walker) node(blk uint64, b []byte, h Header, lo, hi uint64) error {
	if h.Depth == 0 {
		return w.leaf(blk, b, h, lo, hi)
	}
	prev := uint64(0)
	for i := 0; i < int(h.Entries); i++ {
		x := DecodeIndex(b[HeaderSize+EntrySize*i:])
		start := uint64(x.Block)
		if start < lo || start >= hi || (i > 0 && start <= prev) {
			return w.errf(blk, "index %d starts at logical %d, outside or out of order in [%d, %d)", i, start, max(lo, prev), hi)
		}
		prev = start
		end := hi
		if i+1 < int(h.Entries) {
			end = uint64(DecodeIndex(b[HeaderSize+EntrySize*(i+1):]).Block)
		}
		if err := w.child(blk, i, x, h.Depth-1, start, end); err != nil {
			return err
		}
	}
	return nil
}

// child reads, verifies and walks the node index entry i of blk points at.
func (w *walker) child(parent uint64, i int, x Index, depth uint16, lo, hi uint64) error {
	c := x.Child()
	if !w.inRange(c, 1) {
		return w.errf(parent, "index %d points at block %d outside [%d, %d)", i, c, w.opt.FirstDataBlock, w.opt.BlocksCount)
	}
	if what := w.metadata(c, 1); what != "" {
		return w.errf(parent, "index %d points at block %d, which is %s", i, c, what)
	}
	if w.visited[c] {
		return w.errf(parent, "index %d points at block %d, already in the tree (loop)", i, c)
	}
	w.visited[c] = true
	b, err := w.r.ReadBlock(c)
	if err != nil {
		return fmt.Errorf("ext4: inode %d extent node block %d: read: %w", w.opt.Ino, c, err)
	}
	if len(b) != w.bs {
		return w.errf(c, "read %d bytes, want %d", len(b), w.bs)
	}
	h := DecodeHeader(b)
	if err := w.checkHeader(c, h, BlockMax(w.bs)); err != nil {
		return err
	}
	// Check integrity before trusting any entry.
	if w.opt.Csum {
		got, err := Checksum(w.opt.Seed, b)
		if err != nil {
			return w.errf(c, "%v", err)
		}
		want := binary.LittleEndian.Uint32(b[tailOffset(h.Max):])
		if got != want {
			return fmt.Errorf("ext4: inode %d extent node block %d: stored %#08x, computed %#08x: %w", w.opt.Ino, c, want, got, ErrChecksum)
		}
	}
	if h.Depth != depth {
		return w.errf(c, "eh_depth %d, want %d under block %d", h.Depth, depth, parent)
	}
	if h.Entries == 0 {
		return w.errf(c, "empty node")
	}
	if first := binary.LittleEndian.Uint32(b[HeaderSize:]); first != x.Block {
		return w.errf(c, "first entry starts at logical %d, but its index says %d", first, x.Block)
	}
	w.t.Nodes = append(w.t.Nodes, c)
	w.t.Levels[depth] = append(w.t.Levels[depth], c)
	w.t.Entries[depth] = append(w.t.Entries[depth], int(h.Entries))
	return w.node(c, b, h, lo, hi)
}

// leaf collects the extents of a depth-0 node.
func (w *walker) leaf(blk uint64, b []byte, h Header, lo, hi uint64) error {
	for i := 0; i < int(h.Entries); i++ {
		e := DecodeLeaf(b[HeaderSize+EntrySize*i:])
		start, n := uint64(e.Block), uint64(e.Length())
		if n == 0 {
			return w.errf(blk, "extent %d at logical %d has length 0", i, start)
		}
		if start < lo || start < w.next || start+n > hi {
			return w.errf(blk, "extent %d [%d, %d) overlaps, is out of order or leaves [%d, %d)", i, start, start+n, max(lo, w.next), hi)
		}
		if !w.inRange(e.Start(), n) {
			return w.errf(blk, "extent %d maps physical [%d, %d) outside [%d, %d)", i, e.Start(), e.Start()+n, w.opt.FirstDataBlock, w.opt.BlocksCount)
		}
		if what := w.metadata(e.Start(), n); what != "" {
			return w.errf(blk, "extent %d maps physical [%d, %d) over %s", i, e.Start(), e.Start()+n, what)
		}
		w.next = start + n
		w.t.Mappings = append(w.t.Mappings, Mapping{Logical: e.Block, Physical: e.Start(), Len: uint32(n), Uninit: e.Uninit()})
	}
	return nil
}
