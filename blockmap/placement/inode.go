package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// Inode implements fs.Placement: a freed inode whose table block lies in a
// dirty unit, else any free inode in a dirty unit of an inode table
// (groups from the parent's on, wrapping), else fs.DefaultPlacement's rule.
// Without a Layout it is the default rule.
func (p *Policy) Inode(v fs.InodeView, req fs.InodeRequest) (uint32, error) {
	if err := p.setup(v.Layout()); err != nil {
		return 0, err
	}
	p.refreshDevice()
	ino, err := p.chooseInode(v, req)
	if err != nil {
		return 0, err
	}
	if ino == 0 || ino > p.geo.InodesCount {
		return ino, nil // the FS refuses it with its own error
	}
	g, _ := p.geo.GroupOfInode(ino)
	p.noteGroupMeta(g, true)
	if p.layout != nil {
		p.markBlockDirty(p.itableBlock(ino))
	}
	return ino, nil
}

func (p *Policy) chooseInode(v fs.InodeView, req fs.InodeRequest) (uint32, error) {
	if p.layout == nil {
		return fs.DefaultPlacement{}.Inode(v, req)
	}
	for _, ino := range v.Freed() {
		if ino >= p.geo.FirstIno && ino <= p.geo.InodesCount && p.dirty.test(p.unitOf(p.itableBlock(ino))) {
			return ino, nil
		}
	}
	start := uint32(0)
	if req.Parent != 0 && req.Parent <= p.geo.InodesCount {
		start, _ = p.geo.GroupOfInode(req.Parent)
	}
	for i := uint32(0); i < p.geo.Groups; i++ {
		ino, err := p.freeInDirtyTable(v, (start+i)%p.geo.Groups)
		if err != nil || ino != 0 {
			return ino, err
		}
	}
	return fs.DefaultPlacement{}.Inode(v, req)
}

// itableBlock is the inode-table block holding inode ino.
func (p *Policy) itableBlock(ino uint32) uint64 {
	blk, _ := p.layout.InodeBlock(ino)
	return blk
}

// freeInDirtyTable returns the first free inode of group g whose table
// block is in a dirty unit, or 0.
func (p *Policy) freeInDirtyTable(v fs.InodeView, g uint32) (uint32, error) {
	table := p.layout.InodeTable(g)
	if table >= p.geo.BlocksCount || p.geo.ItableBlocks == 0 {
		return 0, nil
	}
	perBlock := uint64(p.geo.BlockSize) / uint64(p.geo.InodeSize)
	tableEnd := min(table+p.geo.ItableBlocks, p.geo.BlocksCount)
	base := g*p.geo.InodesPerGroup + 1 // first inode of the group
	for u := p.dirty.next(p.unitOf(table), true); u >= 0 && u <= p.unitOf(tableEnd-1); u = p.dirty.next(u+1, true) {
		first, end := max(uint64(u)*p.span, table), min(uint64(u+1)*p.span, tableEnd)
		lo := base + uint32((first-table)*perBlock)
		hi := base + uint32(min((end-table)*perBlock, uint64(p.geo.InodesPerGroup))) // one past
		ino, err := v.NextFreeInode(max(lo, p.geo.FirstIno))
		if err != nil {
			return 0, fmt.Errorf("placement: free inode in group %d: %w", g, err)
		}
		if ino != 0 && ino < hi {
			return ino, nil
		}
		// No free inode before ino: go on from ino's unit, not the next
		// dirty one, so a full table is not rescanned once per unit
		// (quadratic in the inodes a release creates, issue 14 item 7).
		if ino == 0 || ino >= base+p.geo.InodesPerGroup {
			return 0, nil
		}
		u = max(u, p.unitOf(p.itableBlock(ino))-1)
	}
	return 0, nil
}
