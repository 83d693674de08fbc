package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// Profiling for performance work (issue 11), not a user interface:
// LVM_UM_GEN_CPUPROFILE=FILE writes a CPU profile of the run to FILE and
// LVM_UM_GEN_MEMPROFILE=FILE a heap profile at its end (`go tool pprof`);
// LVM_UM_GEN_PHASES=1 prints on stderr when each progress phase starts,
// in seconds since the run began, instead of drawing bars.
const (
	cpuProfileEnv = "LVM_UM_GEN_CPUPROFILE"
	memProfileEnv = "LVM_UM_GEN_MEMPROFILE"
	phasesEnv     = "LVM_UM_GEN_PHASES"
)

// phaseTimes is the Progress of LVM_UM_GEN_PHASES.
type phaseTimes struct {
	w     io.Writer
	start time.Time
}

func (p *phaseTimes) Start(label string, total int64) {
	fmt.Fprintf(p.w, "%7.3fs %s (%d)\n", time.Since(p.start).Seconds(), label, total)
}

func (p *phaseTimes) Add(int64) {}

func (p *phaseTimes) Finish() {}

// startProfiles starts what the environment asks for and returns the
// function that finishes it.
func startProfiles() func() {
	var cpu *os.File
	if p := os.Getenv(cpuProfileEnv); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if p := os.Getenv(memProfileEnv); p != "" {
			if f, err := os.Create(p); err == nil {
				runtime.GC()
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
	}
}
