package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tree is the Update Module File API directory the client hands the
// module (update-modules-v3-file-api.md): header/ with the artifact's
// headers, and during Download the FIFO stream-next and streams/.
type tree struct{ dir string }

// maxHeaderFile bounds a header file the module reads: the base manifest
// of a 16 GiB image is about 32 MiB.
const maxHeaderFile = 64 << 20

// readHeader returns the bytes of header/name.
func (t tree) readHeader(name string) ([]byte, error) {
	p := filepath.Join(t.dir, "header", name)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("artifact header %s: %w", name, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxHeaderFile+1))
	if err != nil {
		return nil, fmt.Errorf("artifact header %s: %w", name, err)
	}
	if len(b) > maxHeaderFile {
		return nil, fmt.Errorf("artifact header %s: more than %d bytes", name, maxHeaderFile)
	}
	return b, nil
}

// payloadType is header/payload_type: lvm-um or lvm-um-delta.
func (t tree) payloadType() (string, error) {
	b, err := t.readHeader("payload_type")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// typeInfo is the part of header/type-info the module reads.
type typeInfo struct {
	Type     string            `json:"type"`
	Provides map[string]string `json:"artifact_provides"`
	Depends  map[string]any    `json:"artifact_depends"`
}

func (t tree) typeInfo() (typeInfo, error) {
	b, err := t.readHeader("type-info")
	if err != nil {
		return typeInfo{}, err
	}
	var ti typeInfo
	if err := json.Unmarshal(b, &ti); err != nil {
		return typeInfo{}, fmt.Errorf("artifact header type-info: %v", err)
	}
	return ti, nil
}

// stream is one payload file the client offers during Download.
type stream struct {
	Name string // its name in streams/
	Size int64  // its size, or -1 when the client does not say
}

// maxStreamNext bounds one read of stream-next: one short line.
const maxStreamNext = 4096

// nextStream reads stream-next once, whole: the next payload file, or ok
// false at the empty read that says there are no more. The module must
// not read stream-next again after that.
func (t tree) nextStream(withSize bool) (s stream, ok bool, err error) {
	f, err := os.Open(filepath.Join(t.dir, "stream-next"))
	if err != nil {
		return stream{}, false, fmt.Errorf("stream-next: %w", unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStreamNext+1))
	if err != nil {
		return stream{}, false, fmt.Errorf("stream-next: %w", err)
	}
	if len(b) > maxStreamNext {
		return stream{}, false, errors.New("stream-next: more than one line")
	}
	line := strings.TrimSpace(string(b))
	if line == "" {
		return stream{}, false, nil
	}
	s.Size = -1
	if withSize {
		path, sz, found := strings.Cut(line, " ")
		n, err := strconv.ParseInt(sz, 10, 64)
		if !found || err != nil || n < 0 {
			return stream{}, false, fmt.Errorf("stream-next: %q: want `streams/NAME SIZE`", line)
		}
		line, s.Size = path, n
	}
	dir, name, found := strings.Cut(line, "/")
	if !found || dir != "streams" || name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return stream{}, false, fmt.Errorf("stream-next: %q: want streams/NAME", line)
	}
	s.Name = name
	return s, true, nil
}

// openStream opens the FIFO of stream s for reading.
func (t tree) openStream(s stream) (*os.File, error) {
	f, err := os.Open(filepath.Join(t.dir, "streams", s.Name))
	if err != nil {
		return nil, fmt.Errorf("payload %s: %w", s.Name, unwrapPath(err))
	}
	return f, nil
}

// unwrapPath drops the path from an *os.PathError, for messages that
// name the file themselves.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
