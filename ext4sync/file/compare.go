package file

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// contentWindow is how many bytes of content the content passes (Compare,
// Change, Fill) read at once, of the new content and of the blocks the
// inode maps: one device read per mapped run in it, not one per block. A
// multiple of every block size.
const contentWindow = 256 << 10

// windows recycles contentWindow-sized buffers between files, so passes
// over thousands of files do not churn the heap.
var windows = sync.Pool{New: func() any { b := make([]byte, contentWindow); return &b }}

func getWindow() *[]byte  { return windows.Get().(*[]byte) }
func putWindow(b *[]byte) { windows.Put(b) }

// Same says which logical blocks of a regular file the inode already
// holds with the new content's bytes, byte for byte (Compare), as
// ascending runs: its size follows the blocks found equal, not the file's
// size. A nil Same means "not compared".
type Same []blockRun

// blockRun is the logical blocks [first, first+n).
type blockRun struct{ first, n int64 }

// Has reports whether logical block lb is the same.
func (s Same) Has(lb int64) bool {
	k := sort.Search(len(s), func(k int) bool { return s[k].first+s[k].n > lb })
	return k < len(s) && lb >= s[k].first
}

// add marks logical block lb, which comes after every block marked so far.
func (s *Same) add(lb int64) {
	if k := len(*s); k > 0 && (*s)[k-1].first+(*s)[k-1].n == lb {
		(*s)[k-1].n++
		return
	}
	*s = append(*s, blockRun{first: lb, n: 1})
}

// All reports whether every non-zero block of blocks (block digests) is
// the same.
func (s Same) All(blocks tree.Digests) bool {
	return blocks.Each(func(lb int64, _ uint64) error {
		if !s.Has(lb) {
			return errNotSame
		}
		return nil
	}) == nil
}

var errNotSame = errors.New("not the same")

// Comparer reads new content once for both of the content passes' first
// needs: its digests, and which blocks an inode already holds. It keeps
// its buffers between files; one Comparer is for one goroutine at a time.
type Comparer struct {
	buf, old []byte
}

// Compare reads n's content from r (tree.ReadSpans: holes n.Data shows
// are passed over, not read, when r can skip) and returns its digests (as
// tree.DigestContent does) and, when i is not nil, which of i's logical
// blocks hold those bytes already where i maps them (an initialized block
// equal to the new block, zero-padded past the size). It reads i's mapped
// blocks in runs and changes nothing.
func (c *Comparer) Compare(n *tree.Node, r io.Reader, i *Inode) (tree.Digests, Same, error) {
	size := n.Size
	if size < 0 {
		return tree.Digests{}, nil, fmt.Errorf("tree: negative content size %d", size)
	}
	if c.buf == nil {
		c.buf, c.old = make([]byte, contentWindow), make([]byte, contentWindow)
	}
	d := tree.Digests{Unit: tree.DigestUnit, N: (size + tree.DigestUnit - 1) / tree.DigestUnit}
	var same Same
	bs, align := int64(0), int64(tree.DigestUnit)
	if i != nil && i.ext != nil {
		bs = int64(i.fs.BlockSize())
		align = bs
		same = Same{}
	}
	err := tree.ReadSpans(n, r, align, c.buf, func(pos int64, buf []byte) error {
		m := int64(len(buf))
		for off := int64(0); off < m; off += tree.DigestUnit {
			d.Add((pos+off)/tree.DigestUnit, tree.DigestUnitOf(buf[off:min(off+tree.DigestUnit, m)])) // zero-padded
		}
		if same != nil {
			return c.sameBlocks(i, &same, pos, m, bs)
		}
		return nil
	})
	if err != nil {
		return tree.Digests{}, nil, err
	}
	return d, same, nil
}

// sameBlocks compares the window of m new bytes at content byte pos (in
// c.buf) with the blocks i maps there, marking the equal ones in same.
func (c *Comparer) sameBlocks(i *Inode, same *Same, pos, m, bs int64) error {
	nb := (m + bs - 1) / bs
	clear(c.buf[m : nb*bs]) // zero-pad the last block
	lb0 := uint32(pos / bs)
	for run := range extent.Range(i.ext.Mappings, lb0, uint32(nb)) {
		if run.Uninit {
			continue
		}
		old := c.old[:int64(run.Len)*bs]
		if err := i.fs.ReadBlocksInto(run.Physical, old); err != nil {
			return wrapf(i.ino, fmt.Sprintf("read data blocks %d+%d", run.Physical, run.Len), err)
		}
		for k := int64(0); k < int64(run.Len); k++ {
			at := (int64(run.Logical-lb0) + k) * bs
			if bytes.Equal(old[k*bs:(k+1)*bs], c.buf[at:at+bs]) {
				same.add(int64(run.Logical) + k)
			}
		}
	}
	return nil
}

// oldRuns reads the blocks an inode maps, for a pass over its logical
// blocks in ascending order: each read takes the rest of the mapped run
// the asked block is in, up to contentWindow bytes. release gives its
// buffer back.
type oldRuns struct {
	i          *Inode
	win        *[]byte
	buf        []byte
	start, end uint64 // physical blocks [start, end) are in buf
}

func newOldRuns(i *Inode) *oldRuns {
	w := getWindow()
	return &oldRuns{i: i, win: w, buf: *w}
}

func (o *oldRuns) release() {
	if o != nil {
		putWindow(o.win)
	}
}

// block returns the content of logical block lb, mapped at phys.
func (o *oldRuns) block(lb uint32, phys uint64) ([]byte, error) {
	bs := uint64(o.i.fs.BlockSize())
	if phys < o.start || phys >= o.end {
		n := uint64(1)
		for run := range extent.Range(o.i.ext.Mappings, lb, uint32(uint64(len(o.buf))/bs)) {
			if run.Logical == lb && run.Physical == phys {
				n = uint64(run.Len)
			}
			break
		}
		if err := o.i.fs.ReadBlocksInto(phys, o.buf[:n*bs]); err != nil {
			return nil, err
		}
		o.start, o.end = phys, phys+n
	}
	off := (phys - o.start) * bs
	return o.buf[off : off+bs], nil
}
