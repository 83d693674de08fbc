package main

import (
	"bytes"
	"testing"
)

func TestProgressOnlyOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	a := &app{stderr: &buf}
	if a.progress(false) != nil {
		t.Fatal("progress bars on a non-terminal")
	}
	a.stderrTTY = true
	if a.progress(true) != nil {
		t.Fatal("progress bars despite --quiet")
	}
	p := a.progress(false)
	if p == nil {
		t.Fatal("no progress bars on a terminal")
	}
	p.Add(5) // before Start: ignored
	p.Start("comparing images", 1000)
	p.Add(400)
	p.Start("compressing payload", 10) // replaces the first bar
	p.Add(10)
	p.Finish()
	p.Finish()
	if buf.Len() == 0 {
		t.Fatal("nothing drawn")
	}
}

// recordProgress records the bars a step starts and what they add up to.
type recordProgress struct {
	labels []string
	totals []int64
	done   int64
}

func (r *recordProgress) Start(label string, total int64) {
	r.labels, r.totals, r.done = append(r.labels, label), append(r.totals, total), 0
}
func (r *recordProgress) Add(n int64) { r.done += n }
func (r *recordProgress) Finish()     {}

// Reading the rootfs shows one bar: paths counted with no total for a
// directory, bytes of the archive for a tar.
func TestReadProgress(t *testing.T) {
	for _, c := range []struct {
		calls [][2]int64
		label string
		total int64
		done  int64
	}{
		{[][2]int64{{256, -1}, {512, -1}, {700, -1}}, readingPathsLabel, -1, 700},
		{[][2]int64{{10, 1000}, {10, 1000}, {900, 1000}, {1000, 1000}}, readingBytesLabel, 1000, 1000},
	} {
		r := &recordProgress{}
		p := readProgress(r)
		for _, call := range c.calls {
			p(call[0], call[1])
		}
		if len(r.labels) != 1 || r.labels[0] != c.label || r.totals[0] != c.total || r.done != c.done {
			t.Errorf("bars %v totals %v done %d, want one %q of %d, done %d", r.labels, r.totals, r.done, c.label, c.total, c.done)
		}
	}
}
