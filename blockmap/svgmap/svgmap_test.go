package svgmap

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
	"github.com/lvm-um-gen/lvm-um-gen/blockmap/attrib"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const mib = 1 << 20

// sample is a 200 MiB image at W = 1 MiB with a few changed units.
func sample() (blockmap.Model, []UnitInfo) {
	m := blockmap.Model{WriteUnit: mib, Chunk: 4 << 10, ImageSize: 200*mib + 512<<10}
	units := []UnitInfo{
		{Unit: 70, Reason: attrib.FileData, Blocks: 300, Owners: []string{"/usr/lib/libssl.so.3", "/usr/lib/libcrypto.so.3"}},
		{Unit: 0, Reason: attrib.Superblock, Blocks: 3, Owners: []string{"superblock", "group descriptors"}},
		{Unit: 1, Reason: attrib.InodeTable, Blocks: 12, Owners: []string{"/etc/passwd"}},
		{Unit: 2, Reason: attrib.BlockBitmap, Blocks: 1, Owners: []string{"block bitmap"}},
		{Unit: 128, Reason: attrib.Directory, Blocks: 2, Owners: []string{"/usr/share/zoneinfo/<&\"odd\">"}},
		{Unit: 200, Reason: attrib.ExtentTree, Blocks: 1, Owners: nil},
	}
	return m, units
}

// parse checks the document is well-formed XML and returns its rect
// elements' titles (empty for untitled rects) and the svg's title.
func parse(t *testing.T, b []byte) (titles []string, docTitle string) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not valid XML: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "rect" && len(stack) > 0 && stack[len(stack)-1] == "g" {
				titles = append(titles, "")
			}
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if n := len(stack); n >= 2 && stack[n-1] == "title" {
				if stack[n-2] == "rect" {
					titles[len(titles)-1] += string(e)
				} else if stack[n-2] == "svg" {
					docTitle += string(e)
				}
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	return titles, docTitle
}

func TestGolden(t *testing.T) {
	m, units := sample()
	var buf bytes.Buffer
	if err := Write(&buf, m, units); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "sample.svg")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update after checking it)", golden)
	}
	titles, doc := parse(t, buf.Bytes())
	if !strings.Contains(doc, "200.5 MiB") {
		t.Errorf("title %q does not name the image size", doc)
	}
	var tips []string
	for _, s := range titles {
		if s != "" {
			tips = append(tips, s)
		}
	}
	if len(tips) != len(units) {
		t.Fatalf("%d tooltips for %d changed units: %q", len(tips), len(units), tips)
	}
	for _, want := range []string{"unit 70 (offset 70 MiB): file data; top owner /usr/lib/libssl.so.3",
		`top owner /usr/share/zoneinfo/<&"odd">`, "unit 200 (offset 200 MiB): extent tree; top owner unknown"} {
		found := false
		for _, s := range tips {
			found = found || strings.Contains(s, want)
		}
		if !found {
			t.Errorf("no tooltip contains %q: %q", want, tips)
		}
	}
	for _, s := range []string{"6 of 201 units changed", "predicted COW", "unchanged: 195 units", "file data: 1 unit<"} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("output lacks %q", s)
		}
	}
	// Input order does not matter.
	rev := append([]UnitInfo(nil), units...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	var again bytes.Buffer
	if err := Write(&again, m, rev); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("reordered input changed the output (%v)", err)
	}
}

// A 450 MiB image at W = 4 KiB (115k units) with every unit changed must
// still make a small SVG, its cells covering several units each.
func TestBigImageStaysSmall(t *testing.T) {
	m := blockmap.Model{WriteUnit: 4 << 10, Chunk: 4 << 10, ImageSize: 450 * mib}
	units := make([]UnitInfo, m.Units())
	cats := attrib.Categories()
	for i := range units {
		units[i] = UnitInfo{Unit: int64(i), Reason: cats[i%len(cats)], Blocks: 4,
			Owners: []string{fmt.Sprintf("/usr/lib/some/rather/long/path/to/a/library/file-%06d.so", i/7)}}
	}
	var buf bytes.Buffer
	if err := Write(&buf, m, units); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 2*mib {
		t.Fatalf("SVG is %d bytes, want < 2 MiB", buf.Len())
	}
	titles, _ := parse(t, buf.Bytes())
	var tips []string
	for _, s := range titles {
		if s != "" {
			tips = append(tips, s)
		}
	}
	if len(tips) == 0 || len(tips) > defaultMaxCells {
		t.Fatalf("%d changed cells drawn", len(tips))
	}
	if !strings.Contains(tips[len(tips)-1], "changed, mostly") {
		t.Errorf("a merged cell's tooltip: %q", tips[len(tips)-1])
	}
}

func TestRefusals(t *testing.T) {
	m, units := sample()
	for name, c := range map[string]struct {
		m     blockmap.Model
		units []UnitInfo
	}{
		"bad model":  {blockmap.Model{}, nil},
		"past end":   {m, []UnitInfo{{Unit: m.Units()}}},
		"negative":   {m, []UnitInfo{{Unit: -1}}},
		"duplicated": {m, append(units, units[0])},
	} {
		if err := Write(io.Discard, c.m, c.units); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// No changes and an empty image are fine.
	var buf bytes.Buffer
	if err := Write(&buf, m, nil); err != nil {
		t.Fatal(err)
	}
	parse(t, buf.Bytes())
	if err := Write(io.Discard, blockmap.Model{WriteUnit: mib, Chunk: 4 << 10}, nil); err != nil {
		t.Fatal(err)
	}
}
