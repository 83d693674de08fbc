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

func init() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
