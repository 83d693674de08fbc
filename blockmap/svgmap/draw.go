package svgmap

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
)

// Colours: one per reason, greys for unchanged and unknown reasons.
var colours = map[attrib.Category]string{
	attrib.FileData:         "#1f77b4",
	attrib.Directory:        "#ff7f0e",
	attrib.ExtentTree:       "#9467bd",
	attrib.XattrBlock:       "#e377c2",
	attrib.InodeTable:       "#d62728",
	attrib.BlockBitmap:      "#2ca02c",
	attrib.InodeBitmap:      "#98df8a",
	attrib.GroupDescriptors: "#8c564b",
	attrib.Superblock:       "#bcbd22",
	attrib.Other:            "#17becf",
}

const (
	unchangedColour = "#e6e6e6"
	unknownColour   = "#7f7f7f"
	pitch           = cellSize + cellGap
)

func colour(c attrib.Category) string {
	if s, ok := colours[c]; ok {
		return s
	}
	return unknownColour
}

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder never fails
	return b.String()
}

// write emits the whole document.
func (g *grid) write(w *bufio.Writer) {
	rows := (g.ncells + g.cols - 1) / g.cols
	width := 2*margin + g.cols*pitch
	legendTop := headerHeight + rows*pitch + margin
	cats := g.legend()
	height := legendTop + int64(len(cats)+2)*legendLine + margin
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	fmt.Fprintf(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", width, height, width, height)
	fmt.Fprintf(w, "<title>%s</title>\n", esc(g.title))
	fmt.Fprintf(w, "<defs><pattern id=\"unit\" width=\"%d\" height=\"%d\" patternUnits=\"userSpaceOnUse\"><rect width=\"%d\" height=\"%d\" fill=\"%s\"/></pattern></defs>\n",
		pitch, pitch, cellSize, cellSize, unchangedColour)
	fmt.Fprintf(w, "<text x=\"%d\" y=\"18\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", margin, esc(g.title))
	fmt.Fprintf(w, "<text x=\"%d\" y=\"36\">%s</text>\n", margin, esc(g.summary()))
	// Unchanged background: the full rows, then the last partial row.
	full, rest := g.ncells/g.cols, g.ncells%g.cols
	fmt.Fprintf(w, "<g id=\"units\" transform=\"translate(%d %d)\">\n", margin, headerHeight)
	if full > 0 {
		fmt.Fprintf(w, "<rect width=\"%d\" height=\"%d\" fill=\"url(#unit)\"/>\n", g.cols*pitch, full*pitch)
	}
	if rest > 0 {
		fmt.Fprintf(w, "<rect y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#unit)\"/>\n", full*pitch, rest*pitch, pitch)
	}
	for _, ci := range g.order {
		c := g.cells[ci]
		reason := dominant(c.blocks, func(a, b attrib.Category) bool { return rankOf(a) < rankOf(b) })
		fmt.Fprintf(w, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>\n",
			(ci%g.cols)*pitch, (ci/g.cols)*pitch, cellSize, cellSize, colour(reason), esc(g.tooltip(ci, c, reason)))
	}
	fmt.Fprintf(w, "</g>\n")
	// Legend: every reason present, then unchanged.
	fmt.Fprintf(w, "<g id=\"legend\" transform=\"translate(%d %d)\">\n", margin, legendTop)
	for i, c := range cats {
		fmt.Fprintf(w, "<rect y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">%s: %s</text>\n",
			int64(i)*legendLine, cellSize, cellSize, colour(c), 2*cellSize, int64(i)*legendLine+cellSize, esc(string(c)), units(g.byCat[c]))
	}
	y := int64(len(cats)) * legendLine
	fmt.Fprintf(w, "<rect y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">unchanged: %s</text>\n",
		y, cellSize, cellSize, unchangedColour, 2*cellSize, y+cellSize, units(g.m.Units()-int64(len(g.changed))))
	fmt.Fprintf(w, "<text y=\"%d\">%s</text>\n", y+legendLine+cellSize, esc(g.scale()))
	fmt.Fprintf(w, "</g>\n</svg>\n")
}

// units counts units in words.
func units(n int64) string {
	if n == 1 {
		return "1 unit"
	}
	return fmt.Sprintf("%d units", n)
}

// summary is the totals line.
func (g *grid) summary() string {
	r := g.result
	return fmt.Sprintf("%d of %d units changed (%s written); predicted COW %s (%d chunks of %s)",
		r.UnitsChanged, r.Units, size(r.BytesWritten), size(r.COWBytes), r.ChunksUsed, size(r.Chunk))
}

// scale says what one cell stands for.
func (g *grid) scale() string {
	if g.per == 1 {
		return fmt.Sprintf("1 cell = 1 unit of %s, %d per row", size(g.m.WriteUnit), g.cols)
	}
	return fmt.Sprintf("1 cell = %d units of %s, %d per row; a cell is coloured when any of its units changed", g.per, size(g.m.WriteUnit), g.cols)
}

// legend lists the reasons present: known ones in attrib order, then any
// others by name.
func (g *grid) legend() []attrib.Category {
	var out []attrib.Category
	for c := range g.byCat {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := rankOf(out[i]), rankOf(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

func rankOf(c attrib.Category) int {
	for i, x := range attrib.Categories() {
		if x == c {
			return i
		}
	}
	return len(colours)
}

// tooltip names a changed cell's units, reason and top owner.
func (g *grid) tooltip(ci int64, c *cell, reason attrib.Category) string {
	owner := dominant(c.owners, func(a, b string) bool { return a < b })
	if len(owner) > maxLabel {
		owner = owner[:maxLabel] + "..."
	}
	if owner == "" {
		owner = "unknown"
	}
	first := ci * g.per
	if g.per == 1 {
		return fmt.Sprintf("unit %d (offset %s): %s; top owner %s", first, size(first*g.m.WriteUnit), reason, owner)
	}
	last := min(first+g.per, g.m.Units()) - 1
	return fmt.Sprintf("units %d-%d: %d changed, mostly %s; top owner %s", first, last, c.changed, reason, owner)
}

// dominant returns the key with the largest count, ties broken by less.
func dominant[K comparable](m map[K]int, less func(a, b K) bool) K {
	var best K
	n, found := 0, false
	for k, v := range m {
		if !found || v > n || v == n && less(k, best) {
			best, n, found = k, v, true
		}
	}
	return best
}
