package generator

import "testing"

func TestCOWBytesMeasured(t *testing.T) {
	// cow-model.md: 85 differing 1 MiB units over 4 KiB chunks gave
	// 174776 sectors allocated on a real dm-snapshot.
	n := int64(85 * 256)
	if got, want := cow(n), int64(174776*512); got != want {
		t.Fatalf("cow(%d) = %d, want %d", n, got, want)
	}
	if got := cow(0); got != 2*4096 {
		t.Fatalf("cow(0) = %d, want the header and first metadata chunk", got)
	}
	// 256 exceptions fill a 4 KiB metadata chunk: the 256th needs one more.
	if got := cow(256); got != (2+256+1)*4096 {
		t.Fatalf("cow(256) = %d", got)
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

// cow is blockmap's formula for 4 KiB chunks, the geometry these cases use.
func cow(n int64) int64 { return DefaultGeometry.Model(0).COWBytes(n) }
