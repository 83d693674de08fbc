package generator_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

type svgDoc struct {
	Rects []struct {
		X      int64  `xml:"x,attr"`
		Y      int64  `xml:"y,attr"`
		Width  int64  `xml:"width,attr"`
		Height int64  `xml:"height,attr"`
		Fill   string `xml:"fill,attr"`
	} `xml:"rect"`
	Text string `xml:"text"`
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	return doc
}

func TestWriteUnitMap(t *testing.T) {
	// 130 units: two full rows of 64 and a row of 2. Changed: a run of
	// three, a run crossing a row end (split in two), and the last unit.
	d := &generator.Diff{
		Geometry:     generator.DefaultGeometry,
		ImageBytes:   129*generator.MiB + 1,
		UnitsChanged: 7,
		Changed:      []int64{1, 2, 3, 62, 63, 64, 129},
	}
	var a, b bytes.Buffer
	if err := generator.WriteUnitMap(&a, d); err != nil {
		t.Fatal(err)
	}
	if err := generator.WriteUnitMap(&b, d); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("not deterministic")
	}
	doc := parseSVG(t, a.Bytes())
	var changed []int64
	for _, r := range doc.Rects {
		if r.Fill == "#d62728" {
			changed = append(changed, r.Width/8)
		}
	}
	if want := []int64{3, 2, 1, 1}; len(changed) != len(want) || changed[0] != 3 || changed[1] != 2 || changed[2] != 1 || changed[3] != 1 {
		t.Fatalf("changed runs %v, want widths %v (in cells)", changed, want)
	}
	if len(doc.Rects) != 6 { // two background rects and four runs
		t.Fatalf("%d rects", len(doc.Rects))
	}
	d.Changed = []int64{130}
	if err := generator.WriteUnitMap(&a, d); err == nil {
		t.Fatal("unit outside the image: no error")
	}
}

func TestGenerateMap(t *testing.T) {
	f := newFixture(t)
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	f.generate(t)
	f.assertOnly(t, "update.mender", "map.svg")
	data, _ := os.ReadFile(f.opts.MapPath)
	if doc := parseSVG(t, data); len(doc.Rects) != 1+3 { // one partial row of 7 units; units 0, 2 and 6 changed
		t.Fatalf("%d rects:\n%s", len(doc.Rects), data)
	}

	// On refusal the map comes with the report.
	f = newFixture(t)
	f.opts.SnapshotBytes = 9 * generator.MiB
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	f.opts.ReportPath = filepath.Join(f.out, "r.json")
	var refusal *generator.RefusalError
	if _, err := generator.Generate(context.Background(), f.fake, f.opts); !errors.As(err, &refusal) {
		t.Fatalf("err = %v", err)
	}
	f.assertOnly(t, "map.svg", "r.json")

	// Estimate writes it too.
	f = newFixture(t)
	f.opts.MapPath = filepath.Join(f.out, "map.svg")
	if _, err := generator.Estimate(context.Background(), f.fake, f.opts); err != nil {
		t.Fatal(err)
	}
	f.assertOnly(t, "map.svg")
}
