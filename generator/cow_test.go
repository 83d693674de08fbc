package generator

import "testing"

func TestCOWBytesMeasured(t *testing.T) {
	// cow-model.md: 85 differing 1 MiB units over 4 KiB chunks gave
	// 174776 sectors allocated on a real dm-snapshot.
	n := int64(85 * 256)
	if got, want := COWBytes(n, 4096), int64(174776*512); got != want {
		t.Fatalf("COWBytes(%d, 4096) = %d, want %d", n, got, want)
	}
	if got := COWBytes(0, 4096); got != 2*4096 {
		t.Fatalf("COWBytes(0) = %d, want the header and first metadata chunk", got)
	}
	// 256 exceptions fill a 4 KiB metadata chunk: the 256th needs one more.
	if got := COWBytes(256, 4096); got != (2+256+1)*4096 {
		t.Fatalf("COWBytes(256) = %d", got)
	}
}

func TestGeometryValidate(t *testing.T) {
	ok := []Geometry{{MiB, 4 * KiB}, {4 * KiB, 4 * KiB}, {512, 4 * KiB}, {MiB, 512 * KiB}}
	for _, g := range ok {
		if err := g.Validate(); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	bad := []Geometry{{MiB, 2 * KiB}, {MiB, MiB}, {MiB, 12 * KiB}, {3000, 4 * KiB}, {256, 4 * KiB}, {0, 4 * KiB}}
	for _, g := range bad {
		if err := g.Validate(); err == nil {
			t.Errorf("%+v: want an error", g)
		}
	}
}
