package holes

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestNext: the data ranges of a file with a hole between two pieces of
// data and a hole at its end, as the filesystem reports them (skipped
// where it does not).
func TestNext(t *testing.T) {
	const mib = 1 << 20
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, mib)
	data[0] = 1
	for _, off := range []int64{0, 4 * mib} {
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	size := int64(8 * mib)
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	fd := int(f.Fd())
	var got [][2]int64
	for off := int64(0); off < size; {
		start, end, err := Next(fd, off, size)
		if errors.Is(err, ErrUnsupported) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if start >= size {
			break
		}
		got = append(got, [2]int64{start, end})
		off = end
	}
	if len(got) == 1 && got[0] == [2]int64{0, size} {
		t.Skip("the filesystem reports no holes in this file")
	}
	want := [][2]int64{{0, mib}, {4 * mib, 5 * mib}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	// Cut at size: a range is never reported past it.
	if start, end, err := Next(fd, 0, mib/2); err != nil || start != 0 || end != mib/2 {
		t.Fatalf("Next cut at %d = %d, %d, %v", mib/2, start, end, err)
	}
}
