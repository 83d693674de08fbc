package main

import (
	"io"
	"strings"
	"time"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/schollz/progressbar/v3"
)

// progressThrottle limits redraws.
const progressThrottle = 100 * time.Millisecond

// barProgress draws one progressbar per step on stderr.
type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// progress returns bars on stderr when it is a terminal and not quiet.
func (a *app) progress(quiet bool) generator.Progress {
	if a.getenv != nil && a.getenv(phasesEnv) != "" {
		return &phaseTimes{w: a.stderr, start: time.Now()}
	}
	if quiet || !a.stderrTTY {
		return nil
	}
	return &barProgress{w: a.stderr}
}

func (b *barProgress) Start(label string, total int64) {
	b.Finish()
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowBytes(!strings.HasPrefix(label, syncPhasePrefix) && label != readingPathsLabel),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(progressThrottle),
		progressbar.OptionClearOnFinish(),
	)
}

func (b *barProgress) Add(n int64) {
	if b.bar != nil {
		b.bar.Add64(n)
	}
}

func (b *barProgress) Finish() {
	if b.bar != nil {
		b.bar.Finish()
		b.bar = nil
	}
}
