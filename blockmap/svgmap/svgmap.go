package svgmap

import (
	"bufio"
	"fmt"
	"io"
	"sort"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
)

// UnitInfo is one changed unit: its number, why it changed, its changed
// blocks and its top owners (attrib.Report.Units).
type UnitInfo = attrib.UnitInfo

// Options tune the drawing. The zero value is what Write uses.
type Options struct {
	// Title heads the map; empty means a title naming W and C.
	Title string
	// Columns is the cells per row; 0 means 64.
	Columns int
	// MaxCells bounds the cells drawn: beyond it each cell covers several
	// consecutive units. 0 means 8192 (about 2 MB of SVG at worst).
	MaxCells int64
}

// Drawing constants, in SVG user units (pixels).
const (
	defaultColumns  = 64
	defaultMaxCells = 8192
	cellSize        = 10
	cellGap         = 1
	margin          = 10
	headerHeight    = 48
	legendLine      = 16
	maxLabel        = 120 // longest owner name in a tooltip
)

// Write draws the units of model m, the changed ones as listed in units
// (in any order; each unit at most once), to w.
func Write(w io.Writer, m blockmap.Model, units []UnitInfo) error {
	return WriteWith(w, m, units, Options{})
}

// WriteWith is Write with options.
func WriteWith(w io.Writer, m blockmap.Model, units []UnitInfo, o Options) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("svgmap: %w", err)
	}
	g, err := newGrid(m, units, o)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	g.write(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("svgmap: write: %w", err)
	}
	return nil
}

// cell is one drawn square: a run of per consecutive units.
type cell struct {
	changed int                     // changed units in it
	blocks  map[attrib.Category]int // changed blocks by reason
	owners  map[string]int          // changed blocks by top owner
}

// grid is the map being drawn.
type grid struct {
	m       blockmap.Model
	title   string
	cols    int64
	per     int64 // units per cell
	ncells  int64
	cells   map[int64]*cell
	order   []int64 // changed cells, ascending
	changed []int64 // changed units, ascending
	byCat   map[attrib.Category]int64
	result  blockmap.Result
}

func newGrid(m blockmap.Model, units []UnitInfo, o Options) (*grid, error) {
	g := &grid{m: m, title: o.Title, cols: int64(o.Columns), cells: make(map[int64]*cell), byCat: make(map[attrib.Category]int64)}
	if g.cols <= 0 {
		g.cols = defaultColumns
	}
	maxCells := o.MaxCells
	if maxCells <= 0 {
		maxCells = defaultMaxCells
	}
	if g.title == "" {
		g.title = fmt.Sprintf("Write units of a %s image (W %s, C %s)", size(m.ImageSize), size(m.WriteUnit), size(m.Chunk))
	}
	n := m.Units()
	g.per = max(1, (n+maxCells-1)/maxCells)
	g.ncells = (n + g.per - 1) / g.per
	sorted := append([]UnitInfo(nil), units...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Unit < sorted[j].Unit })
	for i, u := range sorted {
		if u.Unit < 0 || u.Unit >= n {
			return nil, fmt.Errorf("svgmap: unit %d outside the image's %d units", u.Unit, n)
		}
		if i > 0 && sorted[i-1].Unit == u.Unit {
			return nil, fmt.Errorf("svgmap: unit %d listed twice", u.Unit)
		}
		g.changed = append(g.changed, u.Unit)
		g.byCat[u.Reason]++
		ci := u.Unit / g.per
		c := g.cells[ci]
		if c == nil {
			c = &cell{blocks: make(map[attrib.Category]int), owners: make(map[string]int)}
			g.cells[ci] = c
			g.order = append(g.order, ci)
		}
		c.changed++
		c.blocks[u.Reason] += max(u.Blocks, 1)
		if len(u.Owners) > 0 {
			c.owners[u.Owners[0]] += max(u.Blocks, 1)
		}
	}
	res, err := m.Estimate(g.changed)
	if err != nil {
		return nil, fmt.Errorf("svgmap: %w", err)
	}
	g.result = res
	return g, nil
}

// size formats a byte count in binary units.
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
