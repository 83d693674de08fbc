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
// LVM_UM_GEN_MEMPROFILE=FILE a heap profile (`go tool pprof`) taken when
// the live heap was at its largest (peakheap.go), with the run's
// allocations up to then;
// LVM_UM_GEN_PHASES=1 prints on stderr when each progress phase starts,
// in seconds since the run began, instead of drawing bars.
const (
	cpuProfileEnv = "LVM_UM_GEN_CPUPROFILE"
	memProfileEnv = "LVM_UM_GEN_MEMPROFILE"
	phasesEnv     = "LVM_UM_GEN_PHASES"
	// memProfileRate samples the heap profile finely enough to tell
	// megabytes apart at the 450 MiB release (the default: every 512 KiB).
	memProfileRate = 16 << 10
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
	var peak *peakHeap
	if os.Getenv(memProfileEnv) != "" {
		runtime.MemProfileRate = memProfileRate
		peak = watchPeakHeap()
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if peak != nil {
			if f, err := os.Create(os.Getenv(memProfileEnv)); err == nil {
				peak.stop(f)
				f.Close()
			}
		}
	}
}
