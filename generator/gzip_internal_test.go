package generator

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/pgzip"
)

// TestGzipLevels: the payload tar is compressed at payloadGzipLevel, any
// other (the header) at headerGzipLevel, byte for byte as pgzip does at
// that level, and both read back.
func TestGzipLevels(t *testing.T) {
	content := bytes.Repeat([]byte("lvm-um-gen payload 0123456789 "), 40000)
	for name, level := range map[string]int{
		PayloadName:      payloadGzipLevel,
		DeltaPayloadName: payloadGzipLevel,
		"header-info":    headerGzipLevel,
	} {
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(content))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(content)
		tw.Close()

		var got bytes.Buffer
		w, err := gzipCompressor{}.NewWriter(&got)
		if err != nil {
			t.Fatal(err)
		}
		// Small writes, so the first header block arrives in pieces.
		for b := raw.Bytes(); len(b) > 0; b = b[min(len(b), 100):] {
			if _, err := w.Write(b[:min(len(b), 100)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		zw, _ := pgzip.NewWriterLevel(&want, level)
		zw.Write(raw.Bytes())
		zw.Close()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: compressed bytes differ from pgzip at level %d", name, level)
		}
		r, err := gzipCompressor{}.NewReader(&got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, raw.Bytes()) {
			t.Errorf("%s: does not read back (%v)", name, err)
		}
	}
}
