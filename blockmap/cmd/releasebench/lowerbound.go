package main

import (
	"context"
	"fmt"
	"os"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/bound"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/measure"
)

// lowerBoundNote defines the two bound rows; the table prints it as a
// footnote.
const lowerBoundNote = `lower bound = blockmap/bound, as estimate reports it: |U(M)| + ceil(max(0, D*B - R) / W)
  units, B the block size, where
  D = new data: blocks of the new tree's files whose bytes the base holds
      nowhere (zero blocks, blocks the base holds anywhere and a shortened
      file's tail kept in place are free), read off the default placement's
      image and its per-path block lists;
  M = metadata that must change whatever the placement: inode-table blocks
      of inodes that are gone or changed type, mode, owner, links, mtime or
      size, and one group's inode bitmap + descriptor when the inode count
      changes; U(M) = the write units holding them;
  R = room: the bytes of U(M) outside any metadata block (new data may
      share them). COW = formula of cow-model.md with N = chunks of U(M)
      plus W/C per data unit. Directory, extent and xattr blocks, new
      inodes' table blocks and block bitmaps are left out: the figure is a
      floor, not a target.
whole files packed = the same with D = every non-zero block of each new or
  changed regular file (except blocks equal to a removed file's), one block
  per new or changed slow symlink and per directory whose entries change,
  i.e. every changed file relocated whole: cow-model.md's "ceil(new data /
  W)" floor for whole-file placement. Not a bound at small W, where
  overwriting only the differing blocks in place is cheaper.`

// releaseFacts gathers the lower bound's facts from the base image and the
// image a sync wrote from it, with what the sync wrote.
func releaseFacts(baseImg, out string, w measure.Wrote) (*bound.Facts, error) {
	bf, err := os.Open(baseImg)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	defer bf.Close()
	of, err := os.Open(out)
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	defer of.Close()
	fi, err := bf.Stat()
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	m := blockmap.Model{WriteUnit: unitLarge, Chunk: chunkSize, ImageSize: fi.Size()}
	r, err := measure.Measure(context.Background(), bf, of, fi.Size(), m, w, blockmap.DiffOptions{})
	if err != nil {
		return nil, fmt.Errorf("releasebench: lower bound: %w", err)
	}
	return r.Facts, nil
}

// boundRow is the bound of facts under every model, as a table row.
func boundRow(method string, f *bound.Facts, models []blockmap.Model) (Row, error) {
	row := Row{Method: method}
	for _, m := range models {
		b, err := f.Bound(m)
		if err != nil {
			return Row{}, fmt.Errorf("releasebench: %s: %w", method, err)
		}
		row.Cells = append(row.Cells, Cell{Units: b.Units, COW: b.COWBytes})
	}
	return row, nil
}
