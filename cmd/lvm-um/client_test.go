package main

// A fake Mender client: it builds the File API tree the way
// mender-client 3.4 does (installer/modules.go) and feeds Download through
// real FIFOs: stream-next gets "streams/NAME\n" (with " SIZE" for
// DownloadWithFileSizes), then the FIFO streams/NAME gets the payload,
// then stream-next gets the empty write that ends the download. Like the
// client, it unblocks its own pending opens when the module exits early.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// payload is one file of an artifact's payload, as the client streams it.
type payload struct {
	name string
	data []byte
	// cut, if >= 0, stops the stream after cut bytes (a truncated
	// download); the client then closes the FIFO.
	cut int
}

// treeHeaders are the header files of one artifact.
type treeHeaders struct {
	payloadType string
	metaData    []byte
	typeInfo    []byte
}

// newTree makes the File API directory for one payload.
func newTree(t *testing.T, h treeHeaders) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	for _, d := range []string{"header", "tmp", "streams"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"version":               "3",
		"current_artifact_name": "release-1",
		"current_device_type":   "qemux86-64",
		"header/artifact_name":  "release-2",
		"header/payload_type":   h.payloadType,
		"header/header-info":    `{"payloads":[{"type":"` + h.payloadType + `"}]}`,
		"header/type-info":      string(h.typeInfo),
		"header/meta-data":      string(h.metaData),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// result is one run of the module.
type result struct {
	code   int
	stdout string
	stderr string
	// clientErr is what the fake client saw while streaming (nil when
	// the module read everything, including the final empty read).
	clientErr error
}

// runState runs the module in-process in state on tree.
func (d *device) runState(state, tree string) result {
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{state, tree}, &out, &errb, d.env)
	d.t.Logf("%s: exit %d\n%s", state, code, errb.String())
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// download runs Download (or DownloadWithFileSizes) on tree while the
// fake client streams payloads.
func (d *device) download(tree string, withSizes bool, payloads ...payload) result {
	if err := syscall.Mkfifo(filepath.Join(tree, "stream-next"), 0o600); err != nil {
		d.t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		pending string // the FIFO the client is opening for writing
	)
	setPending := func(p string) { mu.Lock(); pending = p; mu.Unlock() }
	clientDone := make(chan error, 1)
	go func() {
		clientDone <- func() error {
			for _, p := range payloads {
				fifo := filepath.Join(tree, "streams", p.name)
				if err := syscall.Mkfifo(fifo, 0o600); err != nil {
					return err
				}
				line := "streams/" + p.name
				if withSizes {
					line += fmt.Sprintf(" %d", len(p.data))
				}
				if err := writeFIFO(filepath.Join(tree, "stream-next"), []byte(line+"\n"), setPending); err != nil {
					return fmt.Errorf("stream-next: %w", err)
				}
				data := p.data
				if p.cut >= 0 && p.cut < len(data) {
					data = data[:p.cut]
				}
				if err := writeFIFO(fifo, data, setPending); err != nil {
					return fmt.Errorf("%s: %w", p.name, err)
				}
				if p.cut >= 0 && p.cut < len(p.data) {
					return fmt.Errorf("%s: download cut after %d bytes", p.name, p.cut)
				}
			}
			return writeFIFO(filepath.Join(tree, "stream-next"), nil, setPending)
		}()
	}()
	r := d.runState(d.downloadState(withSizes), tree)
	// The module has exited: shake loose whatever open the client is
	// blocked in, as the Mender client does (stream.cancel). A client
	// left waiting means the module exited in the middle of the
	// download, which the real client reports as an error.
	var abandoned string
	for {
		select {
		case r.clientErr = <-clientDone:
			if r.clientErr == nil && abandoned != "" {
				r.clientErr = fmt.Errorf("the module exited before reading %s", abandoned)
			}
			return r
		case <-time.After(10 * time.Millisecond):
			mu.Lock()
			p := pending
			mu.Unlock()
			if p != "" {
				abandoned = filepath.Base(p)
				if f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			}
		}
	}
}

func (d *device) downloadState(withSizes bool) string {
	if withSizes {
		return "DownloadWithFileSizes"
	}
	return "Download"
}

// writeFIFO opens a FIFO for writing (blocking until a reader opens it),
// writes data and closes it.
func writeFIFO(path string, data []byte, setPending func(string)) error {
	setPending(path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	setPending("")
	if err != nil {
		return err
	}
	_, err = io.Copy(f, bytes.NewReader(data))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EPIPE) {
		return fmt.Errorf("the module closed the stream: %w", err)
	}
	return err
}

// mustContain fails unless s contains each of subs.
func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}
