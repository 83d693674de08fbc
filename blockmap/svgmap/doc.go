// Package svgmap draws an image's write units as an SVG grid (the
// `--map map.svg` of estimate): one cell per unit, or per run of units for
// big images so the file stays small, coloured by the dominant reason the
// unit changed, light grey when it did not, with a <title> tooltip on every
// changed cell naming its top owner, a legend and the totals (units
// changed, predicted COW). The output depends only on the input.
package svgmap
