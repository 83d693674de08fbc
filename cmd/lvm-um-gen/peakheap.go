package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// peakHeap keeps the heap profile of the moment the live heap was largest
// (LVM_UM_GEN_MEMPROFILE): a profile taken at the end of a run shows what
// it freed, not what it held. It polls the live heap the last garbage
// collection measured, and whenever that grows past the largest seen by
// more than a step it takes the heap profile anew (which describes the
// heap as of that same collection).
type peakHeap struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	prof []byte
	live uint64 // live heap bytes when prof was taken
}

const (
	peakPoll = 10 * time.Millisecond
	peakStep = 1 << 20 // grow this much past the last profile to take another
)

var liveHeapMetric = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func watchPeakHeap() *peakHeap {
	p := &peakHeap{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(peakPoll)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.check()
			}
		}
	}()
	return p
}

// check takes a profile if the live heap grew past the last one's.
func (p *peakHeap) check() {
	s := []metrics.Sample{liveHeapMetric[0]}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	live := s[0].Value.Uint64()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prof != nil && live < p.live+peakStep {
		return
	}
	var b bytes.Buffer
	if pprof.Lookup("heap").WriteTo(&b, 0) == nil {
		p.prof, p.live = b.Bytes(), live
	}
}

// stop ends the watch and writes the peak's profile to w, and the live
// heap it had on standard error.
func (p *peakHeap) stop(w io.Writer) {
	close(p.done)
	p.wg.Wait()
	p.check()
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Write(p.prof)
	fmt.Fprintf(os.Stderr, "heap profile: live heap %.1f MiB at its peak\n", float64(p.live)/(1<<20))
}
