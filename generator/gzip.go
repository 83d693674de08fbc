package generator

import (
	"io"

	"github.com/klauspost/pgzip"
	"github.com/mendersoftware/mender-artifact/artifact"
)

// The "gzip" compression of the payload runs at payloadGzipLevel, the
// header's at headerGzipLevel. The mender-artifact library's own gzip
// compressor uses level 9 for both; with the compressors pinned in go.mod
// level 9 costs 3.9 times the CPU of level 6 for a payload 2.8%
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

// gzipCompressor is mender-artifact's "gzip" at a chosen level: the same
// parallel gzip (klauspost/pgzip, 1 MiB blocks, each compressed on its own
// with the previous block's tail as dictionary), so the bytes do not
// depend on how many cores compress them, nor on how the input is cut
// into writes.
type gzipCompressor struct{ level int }

func (gzipCompressor) GetFileExtension() string { return ".gz" }

func (gzipCompressor) NewReader(r io.Reader) (io.ReadCloser, error) {
	return pgzip.NewReader(r)
}

func (c gzipCompressor) NewWriter(w io.Writer) (io.WriteCloser, error) {
	return pgzip.NewWriterLevel(w, c.level)
}

// compressors are the payload's and the header's compressor of a
// mender-artifact compression id ("" means DefaultCompression): gzip at
// the levels above, any other id as the library registers it.
func compressors(id string) (payload, header artifact.Compressor, err error) {
	if id == "" {
		id = DefaultCompression
	}
	if id == DefaultCompression {
		return gzipCompressor{payloadGzipLevel}, gzipCompressor{headerGzipLevel}, nil
	}
	c, err := artifact.NewCompressorFromId(id)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}
