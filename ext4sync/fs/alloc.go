package fs

import (
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// AllocBlocks allocates req.N blocks where the Placement chooses, marks
// them in use and returns them. The blocks' contents are not touched.
func (f *FS) AllocBlocks(req BlockRequest) ([]Extent, error) {
	if req.N == 0 {
		return nil, nil
	}
	if free := f.FreeBlocksCount(); free < req.N {
		return nil, &SpaceError{Need: req.N, Free: free}
	}
	ext, err := f.placement.Blocks(view{f}, req)
	if err != nil {
		return nil, err
	}
	if err := f.checkChosenBlocks(ext, req.N); err != nil {
		return nil, err
	}
	for _, e := range ext {
		if err := f.markBlocks(e.Start, e.Len, true); err != nil {
			return nil, err
		}
	}
	return ext, nil
}

// checkChosenBlocks verifies a Placement's answer: n blocks in all, each
// free, none metadata, no overlaps.
func (f *FS) checkChosenBlocks(ext []Extent, n uint64) error {
	var total uint64
	sorted := append([]Extent(nil), ext...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for i, e := range sorted {
		if e.Len == 0 || e.Start < f.geo.FirstDataBlock || e.Start >= f.geo.BlocksCount || e.Len > f.geo.BlocksCount-e.Start {
			return invalidf("placement chose blocks %d+%d outside the filesystem", e.Start, e.Len)
		}
		if i > 0 && sorted[i-1].Start+sorted[i-1].Len > e.Start {
			return invalidf("placement chose overlapping blocks at %d", e.Start)
		}
		if sp, ok := f.metaOverlap(e.Start, e.Start+e.Len); ok {
			return invalidf("placement chose metadata blocks %d..%d", sp.start, sp.end-1)
		}
		total += e.Len
	}
	if total != n {
		return invalidf("placement chose %d blocks, %d requested", total, n)
	}
	for _, e := range sorted {
		for b := e.Start; b < e.Start+e.Len; b++ {
			used, err := f.BlockInUse(b)
			if err != nil {
				return err
			}
			if used {
				return invalidf("placement chose block %d, which is in use", b)
			}
		}
	}
	return nil
}

// FreeBlocks marks n blocks from start free. They must be in use and not
// metadata; their contents are not touched.
func (f *FS) FreeBlocks(start, n uint64) error {
	if n == 0 {
		return nil
	}
	if start < f.geo.FirstDataBlock || start >= f.geo.BlocksCount || n > f.geo.BlocksCount-start {
		return invalidf("free blocks %d+%d: outside the filesystem", start, n)
	}
	if sp, ok := f.metaOverlap(start, start+n); ok {
		return invalidf("free blocks %d+%d: blocks %d..%d are metadata", start, n, sp.start, sp.end-1)
	}
	for b := start; b < start+n; b++ {
		used, err := f.BlockInUse(b)
		if err != nil {
			return err
		}
		if !used {
			return invalidf("free blocks %d+%d: block %d is already free", start, n, b)
		}
	}
	return f.markBlocks(start, n, false)
}

// markBlocks sets (used) or clears the bits of n blocks from start, which
// the caller has checked, and updates the groups' counts and flags.
func (f *FS) markBlocks(start, n uint64, used bool) error {
	for n > 0 {
		g, i, _ := f.geo.GroupOfBlock(start)
		m, err := f.blockBitmap(g)
		if err != nil {
			return err
		}
		cnt := min(n, uint64(f.geo.GroupBlocks(g)-i))
		gd := &f.gds[g]
		free := gd.FreeBlocksCount()
		if used && uint64(free) < cnt || !used && uint64(free)+cnt > uint64(f.geo.GroupBlocks(g)) {
			return corruptf("group %d descriptor: free blocks count %d disagrees with the block bitmap", g, free)
		}
		for k := uint32(0); k < uint32(cnt); k++ {
			if used {
				m.set(i + k)
				free--
			} else {
				m.clear(i + k)
				free++
			}
		}
		gd.SetFreeBlocksCount(free)
		gd.Flags &^= disk.BgBlockUninit
		m.dirty = true
		f.gdDirty[g] = true
		f.countsChg = true
		start += cnt
		n -= cnt
	}
	return nil
}

// AllocInode allocates an inode where the Placement chooses and returns its
// number. The inode itself is not written; the caller writes it with
// WriteInode (NewInode gives a blank one).
func (f *FS) AllocInode(req InodeRequest) (uint32, error) {
	if free := f.FreeInodesCount(); free == 0 {
		return 0, &SpaceError{Inodes: true, Need: 1, Free: 0}
	}
	ino, err := f.placement.Inode(view{f}, req)
	if err != nil {
		return 0, err
	}
	if ino < f.geo.FirstIno || ino > f.geo.InodesCount {
		return 0, invalidf("placement chose inode %d outside %d..%d", ino, f.geo.FirstIno, f.geo.InodesCount)
	}
	used, err := f.InodeInUse(ino)
	if err != nil {
		return 0, err
	}
	if used {
		return 0, invalidf("placement chose inode %d, which is in use", ino)
	}
	if err := f.markInode(ino, req.Dir, true); err != nil {
		return 0, err
	}
	return ino, nil
}

// FreeInode marks inode ino free (isDir: it was a directory). The inode's
// bytes are not touched: the caller clears links and sets dtime with
// WriteInode. Freed inodes are offered first to the next AllocInode.
func (f *FS) FreeInode(ino uint32, isDir bool) error {
	if ino < f.geo.FirstIno || ino > f.geo.InodesCount {
		return invalidf("free inode %d: outside %d..%d", ino, f.geo.FirstIno, f.geo.InodesCount)
	}
	used, err := f.InodeInUse(ino)
	if err != nil {
		return err
	}
	if !used {
		return invalidf("free inode %d: already free", ino)
	}
	g, _ := f.geo.GroupOfInode(ino)
	if isDir && f.gds[g].UsedDirsCount() == 0 {
		return corruptf("group %d descriptor: freeing directory inode %d, but no directories counted", g, ino)
	}
	return f.markInode(ino, isDir, false)
}

// markInode sets or clears inode ino's bit and updates the group's counts,
// flags and unused-table mark.
func (f *FS) markInode(ino uint32, dir, used bool) error {
	g, i := f.geo.GroupOfInode(ino)
	m, err := f.inodeBitmap(g)
	if err != nil {
		return err
	}
	gd := &f.gds[g]
	if used && gd.FreeInodesCount() == 0 || !used && gd.FreeInodesCount() >= f.geo.InodesPerGroup {
		return corruptf("group %d descriptor: free inodes count %d disagrees with the inode bitmap", g, gd.FreeInodesCount())
	}
	k := sort.Search(len(f.freed), func(j int) bool { return f.freed[j] >= ino })
	if used {
		if err := f.exposeInodes(g, i); err != nil {
			return err
		}
		m.set(i)
		gd.SetFreeInodesCount(gd.FreeInodesCount() - 1)
		if dir {
			gd.SetUsedDirsCount(gd.UsedDirsCount() + 1)
		}
		gd.Flags &^= disk.BgInodeUninit
		if k < len(f.freed) && f.freed[k] == ino {
			f.freed = append(f.freed[:k], f.freed[k+1:]...)
		}
	} else {
		m.clear(i)
		gd.SetFreeInodesCount(gd.FreeInodesCount() + 1)
		if dir {
			gd.SetUsedDirsCount(gd.UsedDirsCount() - 1)
		}
		f.freed = append(f.freed[:k], append([]uint32{ino}, f.freed[k:]...)...)
	}
	m.dirty = true
	f.gdDirty[g] = true
	f.countsChg = true
	return nil
}

// ClaimBlocks allocates exactly the n blocks from start, which must be
// free and not metadata: for a caller that found the bytes it needs
// already there (a freed block holding the same content). The Placement
// is not asked; its next answer sees the blocks in use.
func (f *FS) ClaimBlocks(start, n uint64) error {
	if n == 0 {
		return nil
	}
	if err := f.checkChosenBlocks([]Extent{{Start: start, Len: n}}, n); err != nil {
		return err
	}
	return f.markBlocks(start, n, true)
}
