package generator

import (
	"fmt"
	"io"
)

// Unit map geometry and colours.
const (
	mapColumns   = 64 // write units per row
	mapCell      = 8  // pixels per unit
	mapMargin    = 8  // pixels around the grid
	mapTitleH    = 24 // pixels above the grid for the title
	mapClean     = "#d9d9d9"
	mapChanged   = "#d62728"
	mapTextColor = "#222222"
)

// WriteUnitMap draws the image as a grid of write units, mapColumns to a
// row from the image's first byte, changed units in red, as an SVG. Runs
// of changed units on a row are one rectangle, so the file stays small for
// any image. The same diff always gives the same bytes.
func WriteUnitMap(w io.Writer, d *Diff) error {
	units := int64(0)
	if d.WriteUnit > 0 {
		units = (d.ImageBytes + d.WriteUnit - 1) / d.WriteUnit
	}
	rows := (units + mapColumns - 1) / mapColumns
	width := 2*mapMargin + mapColumns*mapCell
	height := mapTitleH + 2*mapMargin + rows*mapCell
	ew := &errWriter{w: w}
	ew.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", width, height, width, height)
	ew.printf(`<text x="%d" y="%d" font-family="monospace" font-size="12" fill="%s">%d of %d write units of %s changed, %d chunks, predicted COW %s</text>`+"\n",
		mapMargin, mapTitleH-6, mapTextColor, d.UnitsChanged, units, HumanSize(d.WriteUnit), d.ChunksChanged, HumanSize(d.COWBytes))
	top := int64(mapTitleH + mapMargin)
	if full := units / mapColumns; full > 0 {
		ew.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", mapMargin, top, mapColumns*mapCell, full*mapCell, mapClean)
	}
	if rest := units % mapColumns; rest > 0 {
		ew.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", mapMargin, top+units/mapColumns*mapCell, rest*mapCell, mapCell, mapClean)
	}
	for i := 0; i < len(d.Changed); {
		u := d.Changed[i]
		if u < 0 || u >= units {
			return fmt.Errorf("unit map: changed unit %d outside the image's %d units", u, units)
		}
		j := i + 1
		for j < len(d.Changed) && d.Changed[j] == d.Changed[j-1]+1 && d.Changed[j]/mapColumns == u/mapColumns {
			j++
		}
		ew.printf(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n",
			mapMargin+u%mapColumns*mapCell, top+u/mapColumns*mapCell, int64(j-i)*mapCell, mapCell, mapChanged)
		i = j
	}
	ew.printf("</svg>\n")
	return ew.err
}
