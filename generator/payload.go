package generator

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// payloadWriter makes the artifact's compressed payload tar (what goes in
// data/0000.tar.gz, or the extension of the compression chosen): one
// entry, the payload file, whose bytes are compressed into a temporary
// file as they are written. Generate feeds it the new image while the
// image streams through sha256 for the measurement (streamImage), so the
// image is read once and no file of it is written unless --image-out asks
// for one; the delta's sparse payload is fed from its file
// (payloadFromFile). The tar framing is what Go's archive/tar writes,
// normalized as every tar entry of the artifact is (tarHeader).
type payloadWriter struct {
	ctx  context.Context
	name string // the payload file's name in the tar: PayloadName or DeltaPayloadName
	f    *os.File
	bw   *bufio.Writer
	cw   io.WriteCloser
	h    hash.Hash // nil when the caller hashes the bytes itself
	size int64     // the entry's size, from its header
	n    int64     // bytes written so far
	err  error
	done bool // finish succeeded

	// Set by finish.
	sum        string // hex sha256 of the payload file
	compressed int64  // bytes of the compressed tar
}

// payloadHeader is the tar header of a payload of size bytes, named name,
// as Generate publishes it (mode outputMode; the time and owner are
// normalized).
func payloadHeader(name string, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: outputMode, Size: size}
}

// newPayloadWriter starts the compressed payload tar of spec's compression
// in a temporary file in dir, with the entry hdr. With hashing, it takes
// the payload's sha256 itself; else finish is given it.
func newPayloadWriter(ctx context.Context, dir string, spec *ArtifactSpec, hdr *tar.Header, hashing bool) (_ *payloadWriter, err error) {
	comp, _, err := compressors(spec.Compression)
	if err != nil {
		return nil, fmt.Errorf("artifact: compression %q: %w", spec.Compression, err)
	}
	blocks, err := tarHeader(hdr, spec.Epoch)
	if err != nil {
		return nil, fmt.Errorf("artifact: payload header: %w", err)
	}
	f, err := os.CreateTemp(dir, ".payload-*")
	if err != nil {
		return nil, err
	}
	p := &payloadWriter{ctx: ctx, name: hdr.Name, f: f, bw: bufio.NewWriterSize(f, bufSize), size: hdr.Size}
	defer func() {
		if err != nil {
			p.remove()
		}
	}()
	if hashing {
		p.h = sha256.New()
	}
	if p.cw, err = comp.NewWriter(p.bw); err != nil {
		return nil, fmt.Errorf("artifact: compressor: %w", err)
	}
	if _, err := p.cw.Write(blocks); err != nil {
		return nil, fmt.Errorf("artifact: payload: %w", err)
	}
	return p, nil
}

// Write compresses the payload's next bytes. It fails once ctx is
// cancelled, and when more than the header's size arrive.
func (p *payloadWriter) Write(b []byte) (int, error) {
	if p.err == nil {
		p.err = p.ctx.Err()
	}
	if p.err == nil && p.n+int64(len(b)) > p.size {
		p.err = fmt.Errorf("artifact: payload longer than %d bytes", p.size)
	}
	if p.err != nil {
		return 0, p.err
	}
	if _, err := p.cw.Write(b); err != nil {
		p.err = fmt.Errorf("artifact: compress payload: %w", err)
		return 0, p.err
	}
	if p.h != nil {
		p.h.Write(b)
	}
	p.n += int64(len(b))
	return len(b), nil
}

// finish ends the tar (padding, end-of-archive blocks) and the
// compression, and records the payload's sha256: sum, or the writer's own
// when it hashes.
func (p *payloadWriter) finish(sum string) error {
	if p.err == nil && p.n != p.size {
		p.err = fmt.Errorf("artifact: payload of %d bytes, its header says %d", p.n, p.size)
	}
	if p.err != nil {
		return p.err
	}
	pad := (tarBlock - p.size%tarBlock) % tarBlock
	_, err := p.cw.Write(make([]byte, pad+2*tarBlock))
	if cerr := p.cw.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = p.bw.Flush()
	}
	if err != nil {
		p.err = fmt.Errorf("artifact: compress payload: %w", err)
		return p.err
	}
	if p.compressed, err = p.f.Seek(0, io.SeekCurrent); err != nil {
		p.err = err
		return err
	}
	p.sum, p.done = sum, true
	if p.h != nil {
		p.sum = hex.EncodeToString(p.h.Sum(nil))
	}
	return nil
}

// remove closes and deletes the temporary file; harmless twice.
func (p *payloadWriter) remove() {
	if p == nil || p.f == nil {
		return
	}
	if p.cw != nil && !p.done {
		// Stop the compressor's goroutines (one of them writes to bw, so
		// bw is left alone until they end); the bytes are thrown away.
		p.cw.Close()
	}
	p.f.Close()
	os.Remove(p.f.Name())
	p.f = nil
	if p.err == nil {
		p.err = errors.New("artifact: payload removed")
	}
}

// payloadFromFile compresses the payload file at path: read once, hashed
// and compressed on the way, into a temporary file in dir. Its tar entry
// has the file's base name and permission bits.
func payloadFromFile(ctx context.Context, dir string, spec *ArtifactSpec, path string, progress Progress) (*payloadWriter, error) {
	f, err := openSized(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	hdr, err := tar.FileInfoHeader(fi, "")
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	hdr = &tar.Header{Typeflag: tar.TypeReg, Name: filepath.Base(path), Mode: hdr.Mode, Size: f.size}
	p, err := newPayloadWriter(ctx, dir, spec, hdr, true)
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress.Start("compressing payload", f.size)
		defer progress.Finish()
	}
	err = stream(ctx, f, f.size, func(b []byte) error {
		if _, err := p.Write(b); err != nil {
			return err
		}
		if progress != nil {
			progress.Add(int64(len(b)))
		}
		return nil
	})
	if err == nil {
		err = p.finish("")
	}
	if err != nil {
		p.remove()
		return nil, ctxOr(ctx, err)
	}
	return p, nil
}
