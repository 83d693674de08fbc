// Command lvm-um-gen builds Mender lvm-um artifacts whose new rootfs image
// differs from the previously shipped one in as few snapshot chunks as
// possible, and refuses releases that would overflow the LVM snapshot.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// stopSignals end a run cleanly: the work directory and every temporary
// output are removed before the exit. SIGHUP is a closed terminal or ssh
// session; SIGPIPE a reader of an output stream that went away (without
// it, Go's default would kill the process on a write to stdout and leave
// the work directory behind).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	a := &app{
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		newBuilder: newEngineBuilder,
		stderrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		getenv:     os.Getenv,
	}
	stopProfiles := startProfiles()
	code := a.run(ctx, os.Args[1:])
	stopProfiles()
	stop()
	os.Exit(code)
}
