package generator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
)

// Issue 14, item 8: a run killed between two of its publishing steps
// never leaves the artifact without the image, report and map published
// with it: the artifact is published last.
func TestKillBetweenPublishSteps(t *testing.T) {
	for k := 0; k <= 4; k++ {
		f := newFixture(t)
		f.opts.ImageOut = filepath.Join(f.out, "new.ext4")
		f.opts.ReportPath = filepath.Join(f.out, "r.json")
		f.opts.MapPath = filepath.Join(f.out, "m.svg")
		restore := generator.StopPublishAt(k)
		_, err := generator.Generate(context.Background(), f.fake, f.opts)
		restore()
		if (err == nil) != (k == 4) {
			t.Fatalf("stopped before step %d: err %v", k, err)
		}
		exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
		published := entries(t, f.out)
		t.Logf("stopped before step %d: %v", k, published)
		if exists(f.opts.OutputPath) {
			for _, p := range []string{f.opts.ImageOut, f.opts.ReportPath, f.opts.MapPath} {
				if !exists(p) {
					t.Errorf("stopped before step %d: the artifact is published without %s", k, filepath.Base(p))
				}
			}
		}
		if k == 4 && len(published) != 4 {
			t.Errorf("a whole run published %v", published)
		}
	}
}
