package generator

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/pgzip"
)

// TestGzipLevels: "gzip" compresses the payload at payloadGzipLevel and
// the header at headerGzipLevel, byte for byte as pgzip does at that
// level whatever the writes' sizes, and both read back.
func TestGzipLevels(t *testing.T) {
	content := bytes.Repeat([]byte("lvm-um-gen payload 0123456789 "), 40000)
	payload, header, err := compressors("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		comp interface {
			NewWriter(io.Writer) (io.WriteCloser, error)
		}
		level int
	}{{payload, payloadGzipLevel}, {header, headerGzipLevel}} {
		var got bytes.Buffer
		w, err := c.comp.NewWriter(&got)
		if err != nil {
			t.Fatal(err)
		}
		for b := content; len(b) > 0; b = b[min(len(b), 100):] {
			if _, err := w.Write(b[:min(len(b), 100)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		zw, _ := pgzip.NewWriterLevel(&want, c.level)
		zw.Write(content)
		zw.Close()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("compressed bytes differ from pgzip at level %d", c.level)
		}
		r, err := gzipCompressor{}.NewReader(&got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, content) {
			t.Errorf("level %d: does not read back (%v)", c.level, err)
		}
	}
}
