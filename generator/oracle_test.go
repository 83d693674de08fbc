package generator

// The test oracle of the artifact writer: how lvm-um-gen wrote artifacts
// before artwriter.go, through the mender-artifact library's awriter with
// a tarNormalizer in front of every tar stream and the payload's gzip
// level picked by sniffing the payload tar's first entry name. The new
// writer must produce the same bytes (artwriter_test.go).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/klauspost/pgzip"
	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/awriter"
	"github.com/mendersoftware/mender-artifact/handlers"
)

// oracleWriteArtifact is the library-based WriteArtifact as it was.
func oracleWriteArtifact(ctx context.Context, w io.Writer, spec *ArtifactSpec, payloadPath string) error {
	name, err := spec.payloadName()
	if err != nil {
		return err
	}
	if filepath.Base(payloadPath) != name {
		return fmt.Errorf("payload %s must be named %q", payloadPath, name)
	}
	compID := spec.Compression
	if compID == "" {
		compID = DefaultCompression
	}
	var comp artifact.Compressor = oracleGzip{}
	if compID != DefaultCompression {
		if comp, err = artifact.NewCompressorFromId(compID); err != nil {
			return err
		}
	}
	ti, err := spec.typeInfo()
	if err != nil {
		return err
	}
	var scripts *artifact.Scripts
	if len(spec.Scripts) > 0 {
		scripts = &artifact.Scripts{}
		for _, p := range spec.Scripts {
			if err := scripts.Add(p); err != nil {
				return err
			}
		}
	}
	handler := handlers.NewModuleImage(spec.payloadType())
	if err := handler.SetUpdateFiles([]*handlers.DataFile{{Name: payloadPath}}); err != nil {
		return err
	}
	outer := newTarNormalizer(ctx, w, nil, spec.Epoch)
	ncomp := &oracleCompressor{Compressor: comp, ctx: ctx, epoch: spec.Epoch}
	var aw *awriter.Writer
	if spec.Signer != nil {
		aw = awriter.NewWriterSigned(outer, ncomp, spec.Signer)
	} else {
		aw = awriter.NewWriter(outer, ncomp)
	}
	devices := append([]string(nil), spec.DeviceTypes...)
	sort.Strings(devices)
	err = aw.WriteArtifact(&awriter.WriteArtifactArgs{
		Format:     artifactFormat,
		Version:    artifactVersion,
		Devices:    devices,
		Name:       spec.Name,
		Updates:    &awriter.Updates{Updates: []handlers.Composer{handler}},
		Scripts:    scripts,
		Depends:    &artifact.ArtifactDepends{CompatibleDevices: devices},
		Provides:   &artifact.ArtifactProvides{ArtifactName: spec.Name},
		TypeInfoV3: ti,
		MetaData:   spec.MetaData,
	})
	if cerr := outer.Close(); err == nil {
		err = cerr
	}
	return err
}

// oracleCompressor puts a tarNormalizer in front of each compressed
// stream the library writes.
type oracleCompressor struct {
	artifact.Compressor
	ctx   context.Context
	epoch int64
}

func (c *oracleCompressor) NewWriter(w io.Writer) (io.WriteCloser, error) {
	cw, err := c.Compressor.NewWriter(w)
	if err != nil {
		return nil, err
	}
	return newTarNormalizer(c.ctx, cw, cw, c.epoch), nil
}

// oracleGzip compresses a tar stream at the level its first entry's name
// calls for: the payload's (PayloadName, DeltaPayloadName) or the
// header's (anything else).
type oracleGzip struct{}

func (oracleGzip) GetFileExtension() string { return ".gz" }

func (oracleGzip) NewReader(r io.Reader) (io.ReadCloser, error) { return pgzip.NewReader(r) }

func (oracleGzip) NewWriter(w io.Writer) (io.WriteCloser, error) { return &levelWriter{w: w}, nil }

// levelWriter holds the first ustar header block of its tar stream, then
// opens the gzip writer at the level that entry's name asks for.
type levelWriter struct {
	w     io.Writer
	first []byte
	gz    *pgzip.Writer
}

func (l *levelWriter) Write(p []byte) (int, error) {
	if l.gz != nil {
		return l.gz.Write(p)
	}
	l.first = append(l.first, p...)
	if len(l.first) < tarBlock {
		return len(p), nil
	}
	if err := l.open(); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (l *levelWriter) open() error {
	level := headerGzipLevel
	if len(l.first) >= tarNameLen {
		name := l.first[tarNameOff : tarNameOff+tarNameLen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if n := string(name); n == PayloadName || n == DeltaPayloadName {
			level = payloadGzipLevel
		}
	}
	gz, err := pgzip.NewWriterLevel(l.w, level)
	if err != nil {
		return err
	}
	l.gz = gz
	_, err = gz.Write(l.first)
	l.first = nil
	return err
}

func (l *levelWriter) Close() error {
	if l.gz == nil {
		if err := l.open(); err != nil {
			return err
		}
	}
	return l.gz.Close()
}
