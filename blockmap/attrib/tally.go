package attrib

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/written"
)

// classifier accumulates one Classify call.
type classifier struct {
	l         *disk.Layout
	m         blockmap.Model
	meta      metaIndex
	maxOwners int
	observe   func(uint64, Category)
	touched   []written.Path
	owners    map[uint64][]int        // block -> indexes into touched, ascending
	kinds     map[uint64]written.Kind // block -> what its first owner wrote

	units     map[int64]*unitTally
	contrib   map[string]*Contributor
	catBlocks [len(categoryOrder)]int64
	changed   int64
}

// unitTally is what one unit's changed blocks were.
type unitTally struct {
	cats   [len(categoryOrder)]int
	by     map[string]int // owner name -> blocks
	blocks int
}

func newClassifier(l *disk.Layout, m blockmap.Model, touched []written.Path, o Options) *classifier {
	c := &classifier{l: l, m: m, meta: newMetaIndex(l), maxOwners: o.MaxOwners, observe: o.Observe,
		touched: touched, owners: make(map[uint64][]int), kinds: make(map[uint64]written.Kind),
		units: make(map[int64]*unitTally), contrib: make(map[string]*Contributor)}
	if c.maxOwners <= 0 {
		c.maxOwners = defaultMaxOwners
	}
	for i := range touched {
		t := &touched[i]
		for j, b := range t.Blocks {
			o := c.owners[b]
			if len(o) == 0 {
				c.kinds[b] = t.Kind(j)
			}
			if len(o) == 0 || o[len(o)-1] != i {
				c.owners[b] = append(o, i)
			}
		}
	}
	return c
}

// blocks attributes every block the sorted, disjoint ranges touch.
func (c *classifier) blocks(rs []blockmap.Range) error {
	bs := int64(c.l.BlockSize)
	for _, r := range rs {
		if r.Off < 0 || r.Len <= 0 || r.End() > c.m.ImageSize {
			return fmt.Errorf("attrib: changed range %d+%d outside the %d-byte image", r.Off, r.Len, c.m.ImageSize)
		}
		for blk := r.Off / bs; blk <= (r.End()-1)/bs; blk++ {
			c.block(uint64(blk))
		}
	}
	return nil
}

// block attributes one changed block.
func (c *classifier) block(blk uint64) {
	c.changed++
	cat, isMeta := c.meta.of(blk)
	own := c.owners[blk]
	switch {
	case isMeta:
	case blk >= c.l.BlocksCount || len(own) == 0:
		cat = Other
	default:
		cat = Other
		if k := c.kinds[blk]; int(k) < len(kindCategory) {
			cat = kindCategory[k]
		}
	}
	ci := rank(cat)
	if ci >= len(categoryOrder) {
		cat, ci = Other, rank(Other)
	}
	c.catBlocks[ci]++
	if c.observe != nil {
		c.observe(blk, cat)
	}
	names := make([]string, 0, max(len(own), 1))
	if len(own) == 0 {
		names = append(names, c.contributor(string(cat), KindMetadata, 0))
	}
	for _, i := range own {
		names = append(names, c.contributor(displayPath(c.touched[i].Path), KindPath, c.touched[i].Ino))
	}
	for _, n := range names {
		c.contrib[n].Blocks++
	}
	bs := int64(c.l.BlockSize)
	off := int64(blk) * bs
	first, last, ok := c.m.UnitsOf(off, min(bs, c.m.ImageSize-off))
	for u := first; ok && u <= last; u++ {
		t := c.units[u]
		if t == nil {
			t = &unitTally{by: make(map[string]int)}
			c.units[u] = t
		}
		t.cats[ci]++
		t.blocks++
		for _, n := range names {
			t.by[n]++
		}
	}
}

// contributor returns the name of a contributor, creating it.
func (c *classifier) contributor(name, kind string, ino uint32) string {
	if c.contrib[name] == nil {
		c.contrib[name] = &Contributor{Name: name, Kind: kind, Ino: ino}
	}
	return name
}

func displayPath(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

// report turns the tallies into a Report, everything in a fixed order.
func (c *classifier) report() *Report {
	r := &Report{BlockSize: c.l.BlockSize, BlocksChanged: c.changed}
	order := make([]int64, 0, len(c.units))
	for u := range c.units {
		order = append(order, u)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	var catUnits [len(categoryOrder)]int64
	for _, u := range order {
		t := c.units[u]
		names := make([]string, 0, len(t.by))
		for n := range t.by {
			names = append(names, n)
		}
		sort.Slice(names, func(i, j int) bool {
			if t.by[names[i]] != t.by[names[j]] {
				return t.by[names[i]] > t.by[names[j]]
			}
			return names[i] < names[j]
		})
		total := 0
		for _, n := range names {
			total += t.by[n]
		}
		for _, n := range names {
			k := c.contrib[n]
			k.Units++
			k.Share += float64(t.by[n]) / float64(total)
			if len(names) == 1 {
				k.SoleUnits++
			}
		}
		if len(names) > 1 {
			r.SharedUnits++
		}
		best := 0
		for i, n := range t.cats {
			if n > 0 {
				catUnits[i]++
			}
			if n > t.cats[best] {
				best = i
			}
		}
		r.Units = append(r.Units, UnitInfo{Unit: u, Reason: categoryOrder[best], Blocks: t.blocks,
			Owners: names[:min(len(names), c.maxOwners)]})
	}
	for i, cat := range categoryOrder {
		if c.catBlocks[i] > 0 {
			r.Categories = append(r.Categories, CategoryRow{Category: cat, Blocks: c.catBlocks[i], Units: catUnits[i]})
		}
	}
	for _, k := range c.contrib {
		r.Contributors = append(r.Contributors, *k)
	}
	sort.Slice(r.Contributors, func(i, j int) bool {
		a, b := r.Contributors[i], r.Contributors[j]
		switch {
		case a.Share != b.Share:
			return a.Share > b.Share
		case a.Units != b.Units:
			return a.Units > b.Units
		case a.Blocks != b.Blocks:
			return a.Blocks > b.Blocks
		}
		return a.Name < b.Name
	})
	return r
}
