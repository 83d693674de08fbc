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

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		newBuilder: newEngineBuilder,
		stderrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		getenv:     os.Getenv,
	}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
