package generator

import (
	"bytes"
	"io"

	"github.com/klauspost/pgzip"
	"github.com/mendersoftware/mender-artifact/artifact"
)

// The "gzip" compression of the payload runs at payloadGzipLevel, the
// header's at headerGzipLevel. The mender-artifact library's own gzip
// compressor uses level 9 for both; with the compressors pinned in go.mod
// level 9 costs about 3.5 times the CPU of level 6 for a payload under 3%
// smaller (the benchmark's 450 MiB image: 89.9 MB at 9 in 12.9 s of CPU,
// 92.5 MB at 6 in 3.3 s), which left generate slower than `mkfs.ext4 -d`
// followed by `mender-artifact write module-image`, whose gzip (its
// distribution build) makes a larger payload of the same image (93.3 MB).
// The header, mostly the base manifest's chunk hashes, is small and
// shrinks more at 9, so it keeps 9. Issue 11.
const (
	payloadGzipLevel = 6
	headerGzipLevel  = pgzip.BestCompression
)

// gzipCompressor is mender-artifact's "gzip" with the levels above: the
// same parallel gzip (klauspost/pgzip, 1 MiB blocks, each compressed on
// its own with the previous block's tail as dictionary), so the bytes do
// not depend on how many cores compress them.
type gzipCompressor struct{}

func (gzipCompressor) GetFileExtension() string { return ".gz" }

func (gzipCompressor) NewReader(r io.Reader) (io.ReadCloser, error) {
	return pgzip.NewReader(r)
}

// NewWriter compresses a tar stream at the level its first entry's name
// calls for: the payload's (PayloadName, DeltaPayloadName) or the
// header's (anything else).
func (gzipCompressor) NewWriter(w io.Writer) (io.WriteCloser, error) {
	return &levelWriter{w: w}, nil
}

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

// open starts the gzip stream and writes what was held.
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

// compressor is the compressor of a mender-artifact compression id.
func compressor(id string) (artifact.Compressor, error) {
	if id == DefaultCompression {
		return gzipCompressor{}, nil
	}
	return artifact.NewCompressorFromId(id)
}
