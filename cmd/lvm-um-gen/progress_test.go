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
