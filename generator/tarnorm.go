package generator

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// The mender-artifact library's tar writers (its stream and file
// archivers, its module image handler's header entries) take each entry's
// time, owner and names from the file or leave them to archive/tar, and
// its Scripts hand state scripts out in map order. tarNormalizer sits
// between such a tar writer and the bytes that reach the artifact (the
// header tar's compressor) and rewrites every ustar header to a fixed
// mtime (SOURCE_DATE_EPOCH or 0), uid and gid 0 and empty owner names, and
// sorts consecutive scripts/ entries by name; tarHeader does the same to
// the header blocks of the entries artwriter.go and payload.go write
// themselves. It understands only tar framing (512-byte blocks) and the
// PAX "size" record (used for payloads of 8 GiB and more), streams entry
// data through untouched and keeps at most the scripts and one PAX header
// in memory. PAX records themselves are passed through unchanged; Go's tar
// writer emits no time or owner records for these headers.

// ustar header layout (POSIX.1-1988 with the ustar extensions).
const (
	tarBlock       = 512
	tarNameOff     = 0x000 // 100 bytes
	tarNameLen     = 100
	tarUIDOff      = 0x06C // 8 bytes, octal
	tarGIDOff      = 0x074 // 8 bytes, octal
	tarIDLen       = 8
	tarSizeOff     = 0x07C // 12 bytes, octal or base-256
	tarSizeLen     = 12
	tarMtimeOff    = 0x088 // 12 bytes, octal
	tarMtimeLen    = 12
	tarChksumOff   = 0x094 // 8 bytes: 6 octal digits, NUL, space
	tarChksumLen   = 8
	tarMagicOff    = 0x101 // "ustar"
	tarUnameOff    = 0x109 // 32 bytes
	tarGnameOff    = 0x129 // 32 bytes
	tarOwnerLen    = 32
	tarTypeOff     = 0x09C // 1 byte
	tarPrefixOff   = 0x159 // 155 bytes
	tarPrefixLen   = 155
	tarTypePAX     = 'x'     // PAX extended header for the next entry
	maxPAXBytes    = 1 << 20 // PAX records of one entry, held to read "size"
	base256Flag    = 0x80
	maxScriptBytes = 64 << 20
	scriptsPrefix  = "scripts/"
)

var ustarMagic = []byte("ustar")

type tarNormalizer struct {
	ctx   context.Context
	w     io.Writer // where normalized bytes go
	c     io.Closer // closed after flushing, may be nil
	mtime int64

	hdr     [tarBlock]byte
	hdrN    int
	remain  int64 // bytes of the current entry's data and padding still to come
	ended   bool  // saw the end-of-archive block: pass the rest through
	cur     *bytes.Buffer
	pending []pendingEntry
	held    int64
	err     error

	pax         *bytes.Buffer // data of the PAX header being read
	paxSize     int64         // size of the PAX header's data, without padding
	nextSize    int64         // size override for the next entry, from PAX
	hasNextSize bool
}

type pendingEntry struct {
	name string
	data []byte
}

func newTarNormalizer(ctx context.Context, w io.Writer, c io.Closer, mtime int64) *tarNormalizer {
	return &tarNormalizer{ctx: ctx, w: w, c: c, mtime: mtime}
}

func (t *tarNormalizer) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	if err := t.ctx.Err(); err != nil {
		t.err = err
		return 0, err
	}
	total := len(p)
	for len(p) > 0 && t.err == nil {
		switch {
		case t.ended:
			t.emit(p)
			p = nil
		case t.remain > 0:
			n := int(min(int64(len(p)), t.remain))
			if t.cur != nil {
				t.cur.Write(p[:n])
			} else {
				t.emit(p[:n])
			}
			if t.pax != nil {
				t.pax.Write(p[:n])
			}
			t.remain -= int64(n)
			p = p[n:]
			if t.remain == 0 && t.cur != nil {
				t.pending[len(t.pending)-1].data = t.cur.Bytes()
				t.cur = nil
			}
			if t.remain == 0 && t.pax != nil {
				t.endPAX()
			}
		default:
			n := copy(t.hdr[t.hdrN:], p)
			t.hdrN += n
			p = p[n:]
			if t.hdrN == tarBlock {
				t.hdrN = 0
				t.header()
			}
		}
	}
	if t.err != nil {
		return 0, t.err
	}
	return total, nil
}

// header handles one complete header block.
func (t *tarNormalizer) header() {
	h := t.hdr[:]
	if bytes.Equal(h, make([]byte, tarBlock)) {
		t.flushPending()
		t.ended = true
		t.emit(h)
		return
	}
	size, err := tarNumber(h[tarSizeOff : tarSizeOff+tarSizeLen])
	if err != nil {
		t.err = err
		return
	}
	if t.hasNextSize {
		size, t.hasNextSize = t.nextSize, false
	}
	t.remain = (size + tarBlock - 1) / tarBlock * tarBlock
	if h[tarTypeOff] == tarTypePAX {
		if size > maxPAXBytes {
			t.err = fmt.Errorf("artifact: PAX header of %d bytes", size)
			return
		}
		t.paxSize = size
		t.pax = &bytes.Buffer{}
		if t.remain == 0 {
			t.endPAX()
		}
	}
	if !bytes.HasPrefix(h[tarMagicOff:], ustarMagic) {
		t.flushPending()
		t.emit(h)
		return
	}
	t.rewrite(h)
	name := tarName(h)
	if !strings.HasPrefix(name, scriptsPrefix) {
		t.flushPending()
		t.emit(h)
		return
	}
	t.held += tarBlock + t.remain
	if t.held > maxScriptBytes {
		t.err = fmt.Errorf("artifact: state scripts larger than %d bytes", maxScriptBytes)
		return
	}
	t.cur = bytes.NewBuffer(append([]byte(nil), h...))
	t.pending = append(t.pending, pendingEntry{name: name, data: t.cur.Bytes()})
	if t.remain == 0 {
		t.cur = nil
	}
}

// endPAX reads the "size" record of a complete PAX header: the next
// entry's real size when it does not fit the ustar field.
func (t *tarNormalizer) endPAX() {
	data := t.pax.Bytes()[:t.paxSize]
	t.pax = nil
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			t.err = errors.New("artifact: malformed PAX record")
			return
		}
		n, err := strconv.Atoi(string(data[:sp]))
		if err != nil || n <= sp || n > len(data) {
			t.err = errors.New("artifact: malformed PAX record length")
			return
		}
		rec := strings.TrimSuffix(string(data[sp+1:n]), "\n")
		data = data[n:]
		if k, v, ok := strings.Cut(rec, "="); ok && k == "size" {
			size, err := strconv.ParseInt(v, 10, 64)
			if err != nil || size < 0 {
				t.err = fmt.Errorf("artifact: PAX size %q", v)
				return
			}
			t.nextSize, t.hasNextSize = size, true
		}
	}
}

// rewrite sets the varying fields of a ustar header and its checksum.
func (t *tarNormalizer) rewrite(h []byte) {
	putOctal(h[tarMtimeOff:tarMtimeOff+tarMtimeLen], t.mtime)
	putOctal(h[tarUIDOff:tarUIDOff+tarIDLen], 0)
	putOctal(h[tarGIDOff:tarGIDOff+tarIDLen], 0)
	clear(h[tarUnameOff : tarUnameOff+tarOwnerLen])
	clear(h[tarGnameOff : tarGnameOff+tarOwnerLen])
	for i := tarChksumOff; i < tarChksumOff+tarChksumLen; i++ {
		h[i] = ' '
	}
	var sum int64
	for _, b := range h {
		sum += int64(b)
	}
	putOctal(h[tarChksumOff:tarChksumOff+tarChksumLen-1], sum)
}

func (t *tarNormalizer) flushPending() {
	if len(t.pending) == 0 {
		return
	}
	sort.SliceStable(t.pending, func(i, j int) bool { return t.pending[i].name < t.pending[j].name })
	for _, e := range t.pending {
		t.emit(e.data)
	}
	t.pending, t.held = nil, 0
}

func (t *tarNormalizer) emit(p []byte) {
	if t.err != nil {
		return
	}
	if _, err := t.w.Write(p); err != nil {
		t.err = err
	}
}

// Close flushes what is held and closes the underlying writer.
func (t *tarNormalizer) Close() error {
	if t.err == nil && (t.hdrN != 0 || t.remain != 0 || t.cur != nil) {
		t.err = errors.New("artifact: tar stream ended inside an entry")
	}
	t.flushPending()
	var cerr error
	if t.c != nil {
		cerr = t.c.Close()
	}
	if t.err != nil {
		return t.err
	}
	return cerr
}

// tarName is the entry name: the ustar prefix, a slash, and the name.
func tarName(h []byte) string {
	name := cString(h[tarNameOff : tarNameOff+tarNameLen])
	if prefix := cString(h[tarPrefixOff : tarPrefixOff+tarPrefixLen]); prefix != "" {
		return prefix + "/" + name
	}
	return name
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// tarNumber parses a numeric field: octal digits padded with spaces or
// NULs, or GNU base-256 when the high bit of the first byte is set.
func tarNumber(b []byte) (int64, error) {
	if len(b) > 0 && b[0]&base256Flag != 0 {
		var n int64
		for i, c := range b {
			if i == 0 {
				c &^= base256Flag
			}
			if n > (1<<55)-1 {
				return 0, errors.New("artifact: tar size field out of range")
			}
			n = n<<8 | int64(c)
		}
		return n, nil
	}
	s := strings.Trim(string(b), " \x00")
	var n int64
	for _, c := range s {
		if c < '0' || c > '7' || n > (1<<60) {
			return 0, fmt.Errorf("artifact: bad tar number %q", s)
		}
		n = n*8 + int64(c-'0')
	}
	return n, nil
}

// putOctal writes n as zero-padded octal digits followed by a NUL.
func putOctal(b []byte, n int64) {
	s := fmt.Sprintf("%0*o", len(b)-1, n)
	copy(b, s[len(s)-(len(b)-1):])
	b[len(b)-1] = 0
}

// tarHeader is the header block(s) archive/tar writes for hdr (a PAX
// header first when the size needs one), normalized as tarNormalizer
// normalizes the headers passing through it: the block(s) of an entry
// whose data the caller writes itself.
func tarHeader(hdr *tar.Header, mtime int64) ([]byte, error) {
	var raw, out bytes.Buffer
	if err := tar.NewWriter(&raw).WriteHeader(hdr); err != nil {
		return nil, err
	}
	n := newTarNormalizer(context.Background(), &out, nil, mtime)
	if _, err := n.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if n.hdrN != 0 || len(n.pending) != 0 || n.remain != (hdr.Size+tarBlock-1)/tarBlock*tarBlock {
		return nil, fmt.Errorf("artifact: tar header of %s not normalized whole", hdr.Name)
	}
	return out.Bytes(), nil
}
