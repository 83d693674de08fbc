package bound

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Facts is what the lower bound of one release is computed from. None of
// it depends on the write unit or the chunk, so one Facts serves every
// model (see the package doc for each field's exact meaning).
type Facts struct {
	// Layout is where the filesystem keeps its metadata (the same in the
	// base and the new image: a sync never moves it).
	Layout *disk.Layout
	// NewData is D: blocks of new content the base holds nowhere.
	NewData int64
	// Forced is the inode-table blocks that must change, ascending.
	Forced []uint64
	// InodesDelta is the change in the number of inodes in use.
	InodesDelta int64
}

// Gather computes the facts of a release from the base and the new image
// (read only for the inode-table blocks that changed), a scan of both,
// and the changed blocks attribution found to hold file data, ascending
// (attrib.Options.Observe's FileData blocks).
func Gather(base, img io.ReaderAt, l *disk.Layout, r *Scanned, fileData []uint64) (*Facts, error) {
	if l == nil || l.BlockSize == 0 || l.InodeSize == 0 {
		return nil, errors.New("bound: no layout")
	}
	if int64(l.BlockSize) != r.blockSize {
		return nil, fmt.Errorf("bound: layout has %d-byte blocks, scan %d", l.BlockSize, r.blockSize)
	}
	f := &Facts{Layout: l, NewData: r.newData(fileData)}
	if err := f.inodeTables(base, img, r); err != nil {
		return nil, err
	}
	return f, nil
}

// newData counts the changed file-data blocks that must be written (D).
func (r *Scanned) newData(fileData []uint64) int64 {
	var n int64
	i := 0
	for _, c := range r.changed {
		for i < len(fileData) && fileData[i] < c.blk {
			i++
		}
		if i < len(fileData) && fileData[i] == c.blk && !c.free && !r.baseHolds(c.hash) {
			n++
		}
	}
	return n
}

// table is one group's inode table: blocks [start, start+n).
type table struct {
	start uint64
	group uint32
}

// inodeTables compares every changed inode-table block's inodes, filling
// Forced and InodesDelta.
func (f *Facts) inodeTables(base, img io.ReaderAt, r *Scanned) error {
	l := f.Layout
	tables := make([]table, 0, len(l.Group))
	for g := range l.Group {
		tables = append(tables, table{start: l.InodeTable(uint32(g)), group: uint32(g)})
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].start < tables[j].start })
	bs, isize := int64(l.BlockSize), int(l.InodeSize)
	perBlock := int(bs) / isize
	old, new := make([]byte, bs), make([]byte, bs)
	for _, c := range r.changed {
		i := sort.Search(len(tables), func(i int) bool { return tables[i].start > c.blk }) - 1
		if i < 0 || c.blk-tables[i].start >= l.ItableBlocks {
			continue
		}
		first := int64(c.blk-tables[i].start) * int64(perBlock) // slot of the block's first inode
		slots := int(min(int64(perBlock), int64(l.InodesPerGroup)-first))
		if slots <= 0 {
			continue
		}
		if err := readBlock(base, old, c.blk, "base"); err != nil {
			return err
		}
		if err := readBlock(img, new, c.blk, "new image"); err != nil {
			return err
		}
		forced, delta := compareTable(old, new, isize, slots)
		if forced {
			f.Forced = append(f.Forced, c.blk)
		}
		f.InodesDelta += delta
	}
	return nil
}

// readBlock reads block blk in full.
func readBlock(r io.ReaderAt, p []byte, blk uint64, which string) error {
	off := int64(blk) * int64(len(p))
	if n, err := r.ReadAt(p, off); n != len(p) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("bound: read block %d of the %s: %w", blk, which, err)
	}
	return nil
}
