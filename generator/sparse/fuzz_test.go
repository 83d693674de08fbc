package sparse

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds Expand arbitrary bytes, writing into a 1 MiB image: it
// must never panic or write outside the image the header describes, and
// whatever it accepts must re-encode (Writer) to a sparse image that
// reads back to the same chunks.
func FuzzReader(f *testing.F) {
	f.Add(valid())
	_, next, carry := images(3, 12)
	h, chunks, _ := Plan(bytes.NewReader(next), int64(len(next)), bs, carry)
	var buf bytes.Buffer
	Write(&buf, bytes.NewReader(next), h, chunks)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("header error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if r.Header().ImageBytes() > 1<<20 {
			return // keep memory small; the bounds below still hold
		}
		w := &limitWriter{limit: r.Header().ImageBytes()}
		var seen []Chunk
		_, err = Expand(bytes.NewReader(data), w, func(h Header, c Chunk) error {
			seen = append(seen, c)
			return nil
		})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		// Re-encode what was read and read it again.
		var out bytes.Buffer
		sw, err := NewWriter(&out, r.Header())
		if err != nil {
			t.Fatal(err)
		}
		rr, _ := NewReader(bytes.NewReader(data))
		for {
			c, err := rr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch c.Type {
			case Raw:
				sw.Raw(c.Blocks)
				if _, err := io.Copy(sw, rr); err != nil {
					t.Fatal(err)
				}
			case Fill:
				sw.Fill(c.Blocks, c.Pattern)
			case DontCare:
				sw.DontCare(c.Blocks)
			}
		}
		if err := sw.Close(); err != nil {
			t.Fatalf("re-encoding an accepted image: %v", err)
		}
		var again []Chunk
		if _, err := Expand(bytes.NewReader(out.Bytes()), &limitWriter{limit: r.Header().ImageBytes()}, func(h Header, c Chunk) error {
			again = append(again, c)
			return nil
		}); err != nil || len(again) != len(seen) {
			t.Fatalf("re-encoded image: %v, %d chunks, want %d", err, len(again), len(seen))
		}
	})
}
