package generator

import "testing"

func TestGeometryValidate(t *testing.T) {
	ok := []Geometry{{MiB, 4 * KiB}, {4 * KiB, 4 * KiB}, {512, 4 * KiB}, {MiB, 512 * KiB}, {64 * MiB, 4 * KiB}}
	for _, g := range ok {
		if err := g.Validate(); err != nil {
			t.Errorf("%+v: %v", g, err)
		}
	}
	bad := []Geometry{{MiB, 2 * KiB}, {MiB, MiB}, {MiB, 12 * KiB}, {3000, 4 * KiB}, {256, 4 * KiB}, {0, 2 * KiB},
		{128 * MiB, 4 * KiB}, {64 * GiB, 4 * KiB}, {TiB, 4 * KiB}, {-MiB, 4 * KiB}}
	for _, g := range bad {
		if err := g.Validate(); err == nil {
			t.Errorf("%+v: want an error", g)
		}
	}
	// The default write unit is the chunk, and a write unit of 0 means
	// "the chunk size" whatever the chunk is.
	if m := DefaultGeometry.Model(5 * MiB); m.WriteUnit != 4*KiB || m.Chunk != 4*KiB || m.ImageSize != 5*MiB {
		t.Errorf("model %+v", m)
	}
	if g := (Geometry{ChunkSize: 64 * KiB}); g.Validate() != nil || g.Model(MiB).WriteUnit != 64*KiB || g.Resolved().WriteUnit != 64*KiB {
		t.Errorf("write unit 0 with 64 KiB chunks: %v, %+v", g.Validate(), g.Model(MiB))
	}
}
