package main

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"os"
	"path"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/releasegen"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/extent"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/source/imagesource"
)

// lowerBoundNote defines the lower bound row; the table prints it as a
// footnote.
const lowerBoundNote = `lower bound = ceil(D / W) + |M| units, where
  D = new data bytes, in fs blocks: every non-zero block of a regular file
      that differs from the base file's block at the same offset (for a new
      path: every block) and from every block of the files the release
      removes (those blocks are freed and could be reused as they are),
      one block per directory whose entries change, one per new or
      changed slow symlink (target of 60+ bytes);
  M = the write units of the base image holding metadata that must change
      whatever the placement: the primary superblock; the inode-table block
      of every kept path whose inode changes (type, mode, mtime, size,
      target); the inode bitmap and descriptor block of each group holding
      a removed inode; the block bitmap and descriptor block of each group
      holding a removed file's blocks; and, when none is in M yet, the
      cheapest group's block bitmap + descriptor (new data) and inode
      bitmap + descriptor (new inodes).
  Data units are assumed not to share units with M. COW = formula of
  cow-model.md with N = chunks of those units.
whole files packed = the same with D = every non-zero block of each new or
  changed regular file (except blocks equal to a removed file's), i.e. every
  changed file relocated whole: cow-model.md's "ceil(new data / W)" floor
  for whole-file placement. Not a bound at small W, where overwriting only
  the differing blocks in place is cheaper.`

// bound is what the lower bound needs of a release pair on one base image:
// the new data in blocks and the metadata blocks that must change.
type bound struct {
	blockSize  int64
	dataBlocks int64
	// fileBlocks is the new data when every new or changed regular file is
	// written whole (relocated), the file-granular figure.
	fileBlocks int64
	meta       []blockmap.Range
	// needBlockBitmap / needInodeBitmap: one more group's bitmap and
	// descriptor block must change (see lowerBoundNote), chosen per model.
	needBlockBitmap, needInodeBitmap bool
	layout                           *attrib.Layout
	// freed holds the hashes of the removed files' blocks: new data equal
	// to one of them can be placed on it for free.
	freed map[uint64]bool
}

// newBound computes the lower bound's inputs for base -> next on the image
// at img (built from base).
func newBound(base, next *releasegen.Release, img string) (*bound, error) {
	file, err := os.Open(img)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	defer file.Close()
	layout, err := attrib.ReadLayout(file)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: layout of %s: %w", img, err)
	}
	f, err := fs.Open(readOnly{file}, fs.Options{})
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: open %s: %w", img, err)
	}
	old, err := imagesource.Read(f)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: read %s: %w", img, err)
	}
	b := &bound{blockSize: int64(f.BlockSize()), layout: layout}
	oldDirs, newDirs := entries(base), entries(next)
	var metaBlocks []uint64
	var added, removed int
	b.freed = freedBlocks(base, next, b.blockSize)
	for _, nf := range next.Files {
		of := base.Lookup(nf.Path)
		d, whole := b.newData(of, nf, oldDirs, newDirs)
		b.dataBlocks += d
		b.fileBlocks += whole
		if of == nil {
			added++
			continue
		}
		if inodeChanges(of, nf) {
			ino, ok := old.Inode[of.Path]
			if !ok {
				return nil, fmt.Errorf("releasebench: lower bound: %s is not in image %s", of.Path, img)
			}
			g, idx := f.Geometry().GroupOfInode(ino)
			metaBlocks = append(metaBlocks, layout.InodeTable(g)+uint64(idx)*uint64(f.InodeSize())/uint64(b.blockSize))
		}
	}
	for _, of := range base.Files {
		if next.Lookup(of.Path) != nil {
			continue
		}
		removed++
		ino, ok := old.Inode[of.Path]
		if !ok {
			return nil, fmt.Errorf("releasebench: lower bound: %s is not in image %s", of.Path, img)
		}
		g, _ := f.Geometry().GroupOfInode(ino)
		metaBlocks = append(metaBlocks, layout.InodeBitmap(g), layout.DescBlock(g))
		groups, err := blockGroups(f, ino)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			metaBlocks = append(metaBlocks, layout.BlockBitmap(g), layout.DescBlock(g))
		}
	}
	if b.dataBlocks > 0 || len(metaBlocks) > 0 || added > 0 || removed > 0 {
		b.meta = append(b.meta, blockmap.Range{Off: disk.SuperblockOffset, Len: disk.SuperblockSize})
	}
	rs, err := blockmap.Model{ImageSize: int64(f.BlocksCount()) * b.blockSize}.BlockRanges(toInt64(metaBlocks), b.blockSize)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	b.meta = blockmap.Union(b.meta, rs)
	b.needBlockBitmap = b.dataBlocks > 0 && !anyOf(metaBlocks, layout, layout.BlockBitmap)
	b.needInodeBitmap = added > removed && !anyOf(metaBlocks, layout, layout.InodeBitmap)
	return b, nil
}

// newData is the blocks of new data path nf needs (see lowerBoundNote):
// only its differing blocks, and its whole content if it changed.
func (b *bound) newData(of, nf *releasegen.File, oldDirs, newDirs map[string]string) (diff, whole int64) {
	switch nf.Kind {
	case releasegen.Regular:
		var oc []byte
		if of != nil && of.Kind == releasegen.Regular {
			oc = of.Content()
		}
		nc := nf.Content()
		if of != nil && of.Kind == releasegen.Regular && bytes.Equal(oc, nc) {
			return 0, 0
		}
		return differingBlocks(oc, nc, b.blockSize, b.freed), differingBlocks(nil, nc, b.blockSize, b.freed)
	case releasegen.Symlink:
		if len(nf.Target) >= fastSymlinkMax && (of == nil || of.Kind != nf.Kind || of.Target != nf.Target) {
			return 1, 1
		}
	case releasegen.Dir:
		if of == nil || of.Kind != nf.Kind || oldDirs[of.Path] != newDirs[nf.Path] {
			return 1, 1
		}
	}
	return 0, 0
}

// fastSymlinkMax is the shortest target that needs a data block.
const fastSymlinkMax = 60

// differingBlocks counts the non-zero blocks of nc that differ from oc's
// block at the same offset and from every block in freed.
func differingBlocks(oc, nc []byte, bs int64, freed map[uint64]bool) int64 {
	var n int64
	zero := make([]byte, bs)
	for off := int64(0); off < int64(len(nc)); off += bs {
		nb := nc[off:min(off+bs, int64(len(nc)))]
		if bytes.Equal(nb, zero[:len(nb)]) {
			continue
		}
		var ob []byte
		if off < int64(len(oc)) {
			ob = oc[off:min(off+bs, int64(len(oc)))]
		}
		if !bytes.Equal(nb, ob) && !freed[blockHash(nb)] {
			n++
		}
	}
	return n
}

// freedBlocks hashes every block of the base's regular files that the new
// tree removes (path gone or no longer a regular file).
func freedBlocks(base, next *releasegen.Release, bs int64) map[uint64]bool {
	set := map[uint64]bool{}
	for _, of := range base.Files {
		if of.Kind != releasegen.Regular {
			continue
		}
		if nf := next.Lookup(of.Path); nf != nil && nf.Kind == releasegen.Regular {
			continue
		}
		c := of.Content()
		for off := int64(0); off < int64(len(c)); off += bs {
			set[blockHash(c[off:min(off+bs, int64(len(c)))])] = true
		}
	}
	return set
}

// blockHash is a block's FNV-1a hash (deterministic across runs).
func blockHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// inodeChanges reports whether a kept path's inode must be rewritten.
func inodeChanges(of, nf *releasegen.File) bool {
	if of.Kind != nf.Kind || of.Mode != nf.Mode || of.Mtime != nf.Mtime || of.Target != nf.Target {
		return true
	}
	return nf.Kind == releasegen.Regular && len(of.Content()) != len(nf.Content())
}

// entries maps every directory to a fingerprint of its entries (names and
// kinds), so directories whose entries change can be found.
func entries(r *releasegen.Release) map[string]string {
	names := map[string][]string{}
	for _, f := range r.Files {
		parent := path.Dir(f.Path)
		if parent == "." {
			parent = ""
		}
		names[parent] = append(names[parent], fmt.Sprintf("%s/%d", path.Base(f.Path), f.Kind))
	}
	out := make(map[string]string, len(names))
	for dir, ns := range names {
		sort.Strings(ns)
		out[dir] = fmt.Sprint(ns)
	}
	return out
}

// blockGroups returns the groups holding inode ino's data and extent
// blocks, ascending.
func blockGroups(f *fs.FS, ino uint32) ([]uint32, error) {
	in, err := f.ReadInode(ino)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: inode %d: %w", ino, err)
	}
	if in.Flags&disk.FlagExtents == 0 {
		return nil, nil // fast symlink or device: no blocks
	}
	geo := f.Geometry()
	t, err := extent.Read(in.Block[:], fsReader{f}, extent.Options{
		Ino: ino, Csum: f.HasMetadataCsum(), Seed: f.InodeSeed(ino, in.Generation),
		FirstDataBlock: geo.FirstDataBlock, BlocksCount: geo.BlocksCount,
	})
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: extents of inode %d: %w", ino, err)
	}
	seen := map[uint32]bool{}
	add := func(blk uint64) {
		if g, _, ok := geo.GroupOfBlock(blk); ok {
			seen[g] = true
		}
	}
	for _, m := range t.Mappings {
		for blk := m.Physical; blk < m.End(); blk += uint64(geo.BlocksPerGroup) {
			add(blk)
		}
		if m.Len > 0 {
			add(m.End() - 1)
		}
	}
	for _, n := range t.Nodes {
		add(n)
	}
	out := make([]uint32, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// anyOf reports whether blocks holds some group's metadata block of the
// kind which returns.
func anyOf(blocks []uint64, l *attrib.Layout, which func(uint32) uint64) bool {
	set := map[uint64]bool{}
	for _, b := range blocks {
		set[b] = true
	}
	for g := range l.Groups {
		if set[which(uint32(g))] {
			return true
		}
	}
	return false
}

// estimate is the lower bound's units and predicted COW under m; with
// wholeFiles, the file-granular figure instead.
func (b *bound) estimate(m blockmap.Model, wholeFiles bool) (units, cow int64, err error) {
	meta := b.meta
	extra := func(which func(uint32) uint64) error {
		var bestRs []blockmap.Range
		bestUnits := int64(-1)
		for g := range b.layout.Groups {
			rs, err := m.BlockRanges([]int64{int64(which(uint32(g))), int64(b.layout.DescBlock(uint32(g)))}, b.blockSize)
			if err != nil {
				return err
			}
			us, err := m.UnitsOfRanges(blockmap.Union(meta, rs))
			if err != nil {
				return err
			}
			if bestUnits < 0 || int64(len(us)) < bestUnits {
				bestRs, bestUnits = rs, int64(len(us))
			}
		}
		meta = blockmap.Union(meta, bestRs)
		return nil
	}
	if b.needBlockBitmap {
		if err := extra(b.layout.BlockBitmap); err != nil {
			return 0, 0, err
		}
	}
	if b.needInodeBitmap {
		if err := extra(b.layout.InodeBitmap); err != nil {
			return 0, 0, err
		}
	}
	r, _, err := m.EstimateRanges(meta)
	if err != nil {
		return 0, 0, err
	}
	data := b.dataBlocks
	if wholeFiles {
		data = b.fileBlocks
	}
	dataUnits := ceilDiv(data*b.blockSize, m.WriteUnit)
	n := r.ChunksWritten + ceilDiv(dataUnits*m.WriteUnit, m.Chunk)
	return r.UnitsChanged + dataUnits, m.COWBytes(n), nil
}
