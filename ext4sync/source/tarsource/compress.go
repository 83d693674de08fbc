package tarsource

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compression is how an archive's tar stream is compressed.
type Compression uint8

const (
	None Compression = iota
	Gzip
	Bzip2
	Xz
	Zstd
)

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Bzip2:
		return "bzip2"
	case Xz:
		return "xz"
	case Zstd:
		return "zstd"
	}
	return "unknown"
}

// Magic numbers at the start of each compressed format.
var (
	magicGzip  = []byte{0x1f, 0x8b}
	magicBzip2 = []byte("BZh")
	magicXz    = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd  = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// magicLen is how many bytes sniff needs (the longest magic).
const magicLen = 6

// readBufSize is the read buffer in front of a decompressor.
const readBufSize = 64 << 10

// zstdMaxWindow bounds the memory a zstd frame may ask for (zstd --long
// uses at most 128 MiB; the format's default limit is 8 MiB).
const zstdMaxWindow = 256 << 20

// sniff names the compression from the first bytes of a file.
func sniff(head []byte) Compression {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	case bytes.HasPrefix(head, magicBzip2):
		return Bzip2
	case bytes.HasPrefix(head, magicXz):
		return Xz
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	}
	return None
}

// stream is an opened archive: the decompressed tar bytes and what to
// close. For an uncompressed archive r is the file itself, so archive/tar
// can seek over content it skips.
type stream struct {
	r     io.Reader
	tail  *tailReader // what r's reads pass through, to find the end marker
	comp  Compression
	file  *os.File
	close func()
}

func (s *stream) Close() {
	if s.close != nil {
		s.close()
	}
	s.file.Close()
}

// openStream opens path and the decompressor its content calls for.
func openStream(path string) (*stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tarsource: %w", err)
	}
	head := make([]byte, magicLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("tarsource: %s: read: %w", path, err)
	}
	s := &stream{comp: sniff(head[:n]), file: f}
	if s.comp == None {
		st := &seekTailReader{tailReader: tailReader{r: f}, s: f}
		s.r, s.tail = st, &st.tailReader
		return s, nil
	}
	br := bufio.NewReaderSize(f, readBufSize)
	switch s.comp {
	case Gzip:
		var z *gzip.Reader
		z, err = gzip.NewReader(br)
		if err == nil {
			s.r, s.close = z, func() { z.Close() }
		}
	case Bzip2:
		s.r = bzip2.NewReader(br)
	case Xz:
		s.r, err = xz.NewReader(newXzGuard(br))
	case Zstd:
		var z *zstd.Decoder
		z, err = zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err == nil {
			s.r, s.close = z, z.Close
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tarsource: %s: %s stream: %w: %v", path, s.comp, ErrCorrupt, err)
	}
	s.tail = &tailReader{r: s.r}
	s.r = s.tail
	return s, nil
}

// Tar header layout (POSIX ustar) used to recognise a tar stream.
const (
	blockSize   = 512
	chksumOff   = 148 // 8-byte octal checksum field
	chksumLen   = 8
	chksumSpace = ' ' // the checksum field counts as spaces
)

// Probe reports whether path holds a tar archive, plain or compressed:
// its first decompressed 512-byte block is a tar header with a valid
// checksum. It reads no further than that block. It fails when path cannot
// be read, and with the ErrInvalid cause when decompressing that block
// would take more memory than Open allows (ErrDictTooLarge).
func Probe(path string) (bool, Compression, error) {
	s, err := openStream(path)
	if err != nil {
		if os.IsNotExist(err) || os.IsPermission(err) {
			return false, None, err
		}
		return false, None, nil // a compressed stream that does not open
	}
	defer s.Close()
	block := make([]byte, blockSize)
	if _, err := io.ReadFull(s.r, block); err != nil {
		if errors.Is(err, ErrInvalid) {
			return false, s.comp, fmt.Errorf("tarsource: %s: %w", path, err)
		}
		return false, s.comp, nil
	}
	return validHeader(block), s.comp, nil
}

// validHeader checks a tar header block's checksum, as unsigned or (for
// old Sun tar) signed byte sums. An all-zero block is not a header.
func validHeader(block []byte) bool {
	field := bytes.Trim(block[chksumOff:chksumOff+chksumLen], " \x00")
	if len(field) == 0 {
		return false
	}
	var want int64
	for _, c := range field {
		if c < '0' || c > '7' {
			return false
		}
		want = want*8 + int64(c-'0')
	}
	var unsigned, signed int64
	for i, c := range block {
		if i >= chksumOff && i < chksumOff+chksumLen {
			c = chksumSpace
		}
		unsigned += int64(c)
		signed += int64(int8(c))
	}
	return want == unsigned || want == signed
}
