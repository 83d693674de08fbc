package main

import (
	"os"
	"runtime/debug"
)

// memoryLimit is the Go runtime's soft memory limit unless GOMEMLIMIT sets
// one: the garbage collector works harder as the heap nears it instead of
// letting garbage double the heap, so a multi-GiB release stays within
// the 256 MiB the issue allows (what is large streams or spills to
// temporary files; the heap holds per-file state).
const memoryLimit = 192 << 20

// gcPercent is the collector's GOGC unless the environment sets one: the
// heap may grow to four times what is live, not two, before a collection,
// so a small release (tens of MiB live) is collected a few times less
// often. The memory limit still caps the heap, so a large release, whose
// heap the limit already bounds, is collected as before.
const gcPercent = 300

func init() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
