package generator

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestStreamSparse: the data a sparse file's filesystem reports and the
// holes between, in order, are the file's bytes, whatever the filesystem
// says of its holes (a file without any, one that is all hole).
func TestStreamSparse(t *testing.T) {
	const mib = 1 << 20
	for name, writes := range map[string][][2]int64{ // offset, length of data
		"dense":    {{0, 3*mib + 5}},
		"all hole": {},
		"holes":    {{4096, 100}, {2 * mib, mib + 4096}, {5*mib - 10, 10}},
		"tail":     {{0, 10}, {7 * mib, 4096}},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "img")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			size := int64(6 * mib)
			for i, w := range writes {
				b := bytes.Repeat([]byte{byte(i + 1)}, int(w[1]))
				if _, err := f.WriteAt(b, w[0]); err != nil {
					t.Fatal(err)
				}
				size = max(size, w[0]+w[1])
			}
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			err = streamSparse(context.Background(), f, size,
				func(b []byte) error { got = append(got, b...); return nil },
				func(n int64) error { got = append(got, make([]byte, n)...); return nil })
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("streamed %d bytes, not the file's %d", len(got), len(want))
			}
		})
	}
}
