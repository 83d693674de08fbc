package generator

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/handlers"
)

// The artifact is written here, not by the mender-artifact library's
// awriter, which reads its payload file twice (its own sha256, then the
// compression into a temporary file in $TMPDIR) and then copies the
// compressed payload once more into the artifact. Here the payload is
// compressed once, while its bytes go by (payloadWriter: for a full
// artifact, while the new image streams through the measurement's
// sha256), and the compressed file is copied into the artifact by the
// kernel (copy_file_range, the work directory being next to the
// artifact). Everything else is the library's: the header's JSON
// (header-info, type-info, meta-data) comes from its types and its module
// image handler, the manifest has its format, manifest.sig its signer
// interface. The bytes are those the library-based writer made, the
// oracle kept in oracle_test.go, which artwriter_test.go compares byte
// for byte: entry order (version, manifest, manifest.sig, header,
// data/0000), the manifest's line order (payload, header, version), the
// entries' modes (0600, the payload's own), and every tar header
// normalized as tarNormalizer did (time Epoch, owner 0/0, no names).

// writeArtifact writes the Mender format 3 module-image artifact of spec
// to w around the finished payload p. It stops with ctx.Err() soon after
// ctx is cancelled.
func writeArtifact(ctx context.Context, w io.Writer, spec *ArtifactSpec, p *payloadWriter) error {
	name, err := spec.check()
	if err != nil {
		return err
	}
	if !p.done {
		return fmt.Errorf("artifact: payload not finished")
	}
	if p.name != name {
		return fmt.Errorf("artifact: a %s payload must be named %q, not %q", spec.payloadType(), name, p.name)
	}
	_, hcomp, err := compressors(spec.Compression)
	if err != nil {
		return fmt.Errorf("artifact: compression %q: %w", spec.Compression, err)
	}
	ext := hcomp.GetFileExtension()
	header, err := headerTar(ctx, spec, hcomp)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("artifact: header: %w", err)
	}
	version, err := artifact.ToStream(&artifact.Info{Version: artifactVersion, Format: artifactFormat})
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	headerName := "header.tar" + ext
	manifest := []byte(fmt.Sprintf("%s  %s\n%s  %s\n%s  %s\n",
		p.sum, path.Join(artifact.UpdatePath(0), p.name),
		sha256Hex(header), headerName,
		sha256Hex(version), "version"))

	t := &outerTar{w: w, epoch: spec.Epoch}
	t.entry("version", version)
	t.entry("manifest", manifest)
	if spec.Signer != nil {
		sig, err := spec.Signer.Sign(manifest)
		if err != nil {
			return fmt.Errorf("artifact: sign: %w", err)
		}
		t.entry("manifest.sig", sig)
	}
	t.entry(headerName, header)
	t.file(ctx, artifact.UpdateDataPath(0)+ext, p.f, p.compressed)
	t.end()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	if t.err != nil {
		return fmt.Errorf("artifact: %w", t.err)
	}
	return nil
}

// check validates what writeArtifact needs of the spec and returns the
// payload file's name.
func (s *ArtifactSpec) check() (string, error) {
	name, err := s.payloadName()
	if err != nil {
		return "", fmt.Errorf("artifact: %w", err)
	}
	if len(s.DeviceTypes) == 0 {
		return "", fmt.Errorf("artifact: no device type")
	}
	if s.Epoch < 0 || s.Epoch > MaxEpoch {
		return "", fmt.Errorf("artifact: time %d outside 0..%d", s.Epoch, int64(MaxEpoch))
	}
	if err := CheckScripts(s.Scripts); err != nil {
		return "", fmt.Errorf("artifact: state script: %w", err)
	}
	return name, nil
}

// headerTar is the compressed header tar: header-info, the state scripts
// (sorted by name), headers/0000/type-info and headers/0000/meta-data,
// written with the library's types and module image handler through a
// tarNormalizer, as its awriter does.
func headerTar(ctx context.Context, spec *ArtifactSpec, comp artifact.Compressor) ([]byte, error) {
	ti, err := spec.typeInfo()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	cw, err := comp.NewWriter(&buf)
	if err != nil {
		return nil, err
	}
	norm := newTarNormalizer(ctx, cw, cw, spec.Epoch)
	tw := tar.NewWriter(norm)
	err = headerEntries(tw, spec, ti)
	if err == nil {
		err = tw.Close()
	}
	if cerr := norm.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func headerEntries(tw *tar.Writer, spec *ArtifactSpec, ti *artifact.TypeInfoV3) error {
	devices := append([]string(nil), spec.DeviceTypes...)
	sort.Strings(devices)
	typ := spec.payloadType()
	info, err := artifact.ToStream(artifact.NewHeaderInfoV3(
		[]artifact.UpdateType{{Type: &typ}},
		&artifact.ArtifactProvides{ArtifactName: spec.Name},
		&artifact.ArtifactDepends{CompatibleDevices: devices}))
	if err != nil {
		return err
	}
	if err := artifact.NewTarWriterStream(tw).Write(info, "header-info"); err != nil {
		return err
	}
	for _, s := range spec.Scripts {
		if err := headerScript(tw, s); err != nil {
			return fmt.Errorf("state script %s: %w", s, err)
		}
	}
	return handlers.NewModuleImage(typ).ComposeHeader(&handlers.ComposeHeaderArgs{
		TarWriter:  tw,
		No:         0,
		Version:    artifactVersion,
		TypeInfoV3: ti,
		MetaData:   spec.MetaData,
	})
}

func headerScript(tw *tar.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return artifact.NewTarWriterFile(tw).Write(f, filepath.Join("scripts", filepath.Base(path)))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// outerTar writes the artifact's own tar: entries of mode 0600 (what the
// library's awriter gives its files) with normalized headers, then the
// end-of-archive blocks. The first error sticks.
type outerTar struct {
	w     io.Writer
	epoch int64
	err   error
}

// copyPiece is how much of the payload is copied between two checks of
// the context.
const copyPiece = 64 << 20

func (t *outerTar) header(name string, size int64) {
	if t.err != nil {
		return
	}
	var blocks []byte
	blocks, t.err = tarHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: size}, t.epoch)
	t.write(blocks)
}

func (t *outerTar) entry(name string, data []byte) {
	t.header(name, int64(len(data)))
	t.write(data)
	t.pad(int64(len(data)))
}

// file copies size bytes of f from its start as the entry name: by
// io.Copy to w's ReadFrom, copy_file_range between two files.
func (t *outerTar) file(ctx context.Context, name string, f *os.File, size int64) {
	t.header(name, size)
	if t.err == nil {
		_, t.err = f.Seek(0, io.SeekStart)
	}
	for left := size; left > 0 && t.err == nil; {
		if t.err = ctx.Err(); t.err != nil {
			break
		}
		var n int64
		n, t.err = io.CopyN(t.w, f, min(left, copyPiece))
		left -= n
	}
	t.pad(size)
}

func (t *outerTar) pad(size int64) {
	t.write(make([]byte, (tarBlock-size%tarBlock)%tarBlock))
}

// end writes the two zero blocks that end a tar.
func (t *outerTar) end() { t.write(make([]byte, 2*tarBlock)) }

func (t *outerTar) write(b []byte) {
	if t.err == nil && len(b) > 0 {
		_, t.err = t.w.Write(b)
	}
}
