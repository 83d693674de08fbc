package placement

import (
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
)

// maxUnits bounds the units the policy tracks (a few bytes each), far
// above any rootfs image: 64 Mi units of 1 KiB blocks is 64 GiB.
const maxUnits = 1 << 26

// unknownFree marks a group whose free count the policy has not seen yet,
// so the first call scans it.
const unknownFree = ^uint32(0)

// setup learns the layout from the first view.
func (p *Policy) setup(l *disk.Layout) error {
	if p.err != nil {
		return p.err
	}
	if l == nil {
		return fmt.Errorf("placement: the view has no layout")
	}
	geo := l.Geometry
	if p.ready {
		if geo.BlocksCount != p.geo.BlocksCount || geo.BlockSize != p.geo.BlockSize {
			return fmt.Errorf("placement: policy made for %d blocks of %d bytes used on %d blocks of %d bytes", p.geo.BlocksCount, p.geo.BlockSize, geo.BlocksCount, geo.BlockSize)
		}
		return nil
	}
	bs := int64(geo.BlockSize)
	if bs <= 0 || geo.BlocksCount == 0 || geo.Groups == 0 || geo.BlocksPerGroup == 0 || geo.InodesPerGroup == 0 ||
		geo.InodeSize == 0 || uint32(geo.InodeSize) > geo.BlockSize {
		return fmt.Errorf("placement: unusable geometry: %d blocks of %d bytes, %d groups of %d blocks and %d inodes of %d bytes",
			geo.BlocksCount, bs, geo.Groups, geo.BlocksPerGroup, geo.InodesPerGroup, geo.InodeSize)
	}
	if size := p.model.ImageSize; size > 0 && uint64(size) < geo.BlocksCount*uint64(bs) {
		return fmt.Errorf("placement: model image of %d bytes is smaller than the filesystem (%d blocks of %d bytes)", size, geo.BlocksCount, bs)
	}
	p.geo = geo
	if len(l.Group) > 0 {
		p.layout = l
	}
	p.span = 1
	if g := p.granule(); g > bs && g%bs == 0 {
		p.span = uint64(g / bs)
	}
	p.units = int64((geo.BlocksCount + p.span - 1) / p.span)
	if p.units > maxUnits {
		return fmt.Errorf("placement: %d placement units (max %d)", p.units, maxUnits)
	}
	p.free = make([]uint32, p.units)
	p.room = 0
	p.dirty = newBitset(p.units)
	p.dirtyFree = newBitset(p.units)
	p.byFree = newFreeSets(p.units)
	p.groupFree = make([]uint32, geo.Groups)
	for g := range p.groupFree {
		p.groupFree[g] = unknownFree
	}
	p.ready = true
	return nil
}

// setFree records that unit u has n free blocks, keeping the sets in step.
func (p *Policy) setFree(u int64, n uint32) {
	p.note(u)
	n = min(n, uint32(p.span))
	old := p.free[u]
	p.free[u] = n
	if p.dirty.test(u) {
		p.room = p.room - uint64(old) + uint64(n)
		if n > 0 {
			p.dirtyFree.set(u)
		} else {
			p.dirtyFree.clear(u)
		}
		return
	}
	p.byFree.remove(old, u)
	p.byFree.add(n, u)
}

// markDirty makes unit u dirty: from now on writing into it is free.
func (p *Policy) markDirty(u int64) {
	if u < 0 || u >= p.units || p.dirty.test(u) {
		return
	}
	p.note(u)
	p.dirty.set(u)
	n := p.free[u]
	p.room += uint64(n)
	p.byFree.remove(n, u)
	if n > 0 {
		p.dirtyFree.set(u)
	}
}

// markBlockDirty makes the unit holding block blk dirty.
func (p *Policy) markBlockDirty(blk uint64) {
	if blk < p.geo.BlocksCount {
		p.markDirty(p.unitOf(blk))
	}
}

// refresh brings the policy up to date with the device and the view.
func (p *Policy) refresh(v fs.SpaceView) error {
	p.refreshDevice()
	for g := uint32(0); g < p.geo.Groups; g++ {
		n := v.GroupFreeBlocks(g)
		if n == p.groupFree[g] {
			continue
		}
		first := p.geo.GroupFirstBlock(g)
		if err := p.rescan(v, first, first+uint64(p.geo.GroupBlocks(g))); err != nil {
			return err
		}
		p.groupFree[g] = n
	}
	return nil
}

// refreshDevice marks the units holding device changes dirty. Dirtiness
// is sticky: a unit whose change was undone stays dirty (rare, and only
// makes the policy a little optimistic about it).
func (p *Policy) refreshDevice() {
	if p.dev == nil {
		return
	}
	if c, ok := p.dev.(changeCounter); ok {
		n := c.ChangedCount()
		if n == p.seenChanges {
			return
		}
		p.seenChanges = n
	}
	bs := int64(p.geo.BlockSize)
	limit := int64(p.geo.BlocksCount)
	p.dev.Changed(func(off, n int64) {
		if off < 0 || n <= 0 {
			return
		}
		first, last := off/bs, min((off+n-1)/bs, limit-1)
		if first > last {
			return
		}
		for u := first / int64(p.span); u <= last/int64(p.span); u++ {
			p.markDirty(u)
		}
	})
}

// rescan recounts the free blocks of every unit overlapping [a, b).
func (p *Policy) rescan(v fs.SpaceView, a, b uint64) error {
	if a >= b {
		return nil
	}
	ua, ub := p.unitOf(a), p.unitOf(b-1)
	counts := make([]uint32, ub-ua+1)
	from := uint64(ua) * p.span
	end := min(uint64(ub+1)*p.span, p.geo.BlocksCount)
	for from < end {
		s, n, err := v.NextFreeRun(from)
		if err != nil {
			return fmt.Errorf("placement: scan free blocks from %d: %w", from, err)
		}
		if n == 0 || s >= end || s < from {
			break
		}
		e := min(s+n, end)
		for blk := s; blk < e; {
			u := p.unitOf(blk)
			ue := min(uint64(u+1)*p.span, e)
			counts[u-ua] += uint32(ue - blk)
			blk = ue
		}
		from = s + n
	}
	for i, n := range counts {
		p.setFree(ua+int64(i), n)
	}
	return nil
}
