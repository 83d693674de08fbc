// Command lvm-um is the Mender Update Module (protocol v3) for the
// lvm-um (full image) and lvm-um-delta (Android sparse delta) payload
// types: it writes a release into an LVM snapshot of the running rootfs,
// after checking on the device itself that the snapshot will hold it,
// boots it, and merges it on commit or drops it on rollback.
//
// Install the one binary under both names:
//
//	/usr/share/mender/modules/v3/lvm-um
//	/usr/share/mender/modules/v3/lvm-um-delta
//
// The client runs it as `lvm-um <State> <tree>`. Its configuration is
// /etc/mender/lvm-um.conf (or $LVM_UM_CONFIG); README.md documents it.
//
// Exit status: 0 success, 1 I/O or internal error, 2 bad configuration or
// an artifact this device cannot take, 3 the release does not fit the
// snapshot space (the pre-flight refused it before anything changed).
// Every failure prints one line starting "lvm-um: " on standard error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lvm-um-gen/lvm-um-gen/cmd/lvm-um/host"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitInput   = 2
	exitNoFit   = 3
)

// exitError carries the exit status of a failure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks an error as a bad configuration or artifact (exit 2).
func badInput(err error) error { return &exitError{exitInput, err} }

// noFit marks a pre-flight refusal (exit 3).
func noFit(err error) error { return &exitError{exitNoFit, err} }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, ErrConfig) {
		return exitInput
	}
	return exitFailure
}

// version is stamped by `make module` (git describe).
var version = "devel"

// Env is what the module takes from the device: the seam to external
// programs and to the running system, and where its config is.
type Env struct {
	Runner     host.Runner
	MountDev   func(path string) (host.Dev, error)
	ConfigPath string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfgPath := os.Getenv("LVM_UM_CONFIG")
	if cfgPath == "" {
		cfgPath = DefaultConfigPath
	}
	env := Env{Runner: host.Exec{}, MountDev: host.MountDev, ConfigPath: cfgPath}
	os.Exit(Main(ctx, os.Args[1:], os.Stdout, os.Stderr, env))
}

// queries are answered on stdout without reading the configuration.
var queries = map[string]string{
	"SupportsRollback":        "Yes",
	"NeedsArtifactReboot":     "Automatic",
	"ProvidePayloadFileSizes": "Yes",
}

// states maps each protocol state to its handler.
var states = map[string]func(*module, context.Context) error{
	"Download":                     func(m *module, ctx context.Context) error { return m.download(ctx, false) },
	"DownloadWithFileSizes":        func(m *module, ctx context.Context) error { return m.download(ctx, true) },
	"ArtifactInstall":              (*module).install,
	"ArtifactReboot":               func(*module, context.Context) error { return nil }, // Automatic: never called
	"ArtifactVerifyReboot":         (*module).verifyReboot,
	"ArtifactCommit":               (*module).commit,
	"ArtifactRollback":             (*module).rollback,
	"ArtifactRollbackReboot":       func(*module, context.Context) error { return nil }, // Automatic: never called
	"ArtifactVerifyRollbackReboot": (*module).verifyRollbackReboot,
	"ArtifactFailure":              (*module).failure,
	"Cleanup":                      (*module).cleanup,
}

// Main runs one invocation of the module and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, env Env) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "lvm-um: usage: lvm-um <State> <tree> (a Mender update module, run by the Mender client)")
		return exitInput
	}
	state := args[0]
	if answer, ok := queries[state]; ok {
		fmt.Fprintln(stdout, answer)
		return exitOK
	}
	handler, ok := states[state]
	if !ok {
		return exitOK // unknown states and queries: print nothing, succeed
	}
	if len(args) < 2 {
		fmt.Fprintf(stderr, "lvm-um: %s: no File API directory given\n", state)
		return exitInput
	}
	log := &logger{w: stderr}
	cfg, err := LoadConfig(env.ConfigPath)
	if err == nil {
		m := &module{
			state: state, cfg: cfg, tree: tree{dir: args[1]}, log: log,
			lvm: host.LVM{R: env.Runner}, runner: env.Runner, mountDev: env.MountDev,
		}
		err = handler(m, ctx)
	}
	if err != nil {
		log.Printf("%s failed: %v", state, err)
	}
	return exitCode(err)
}

// logger writes the module's log lines to stderr (the client logs each
// line), one write per line.
type logger struct{ w io.Writer }

func (l *logger) Printf(format string, a ...any) {
	fmt.Fprintf(l.w, "lvm-um: "+format+"\n", a...)
}
