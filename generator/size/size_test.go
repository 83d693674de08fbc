package size

import "testing"

func TestParse(t *testing.T) {
	good := []struct {
		in   string
		want int64
	}{
		{"4096", 4096},
		{"512B", 512},
		{"4KiB", 4096},
		{"4kib", 4096},
		{"4k", 4096},
		{"4K", 4096},
		{"32MiB", 32 << 20},
		{"32M", 32 << 20},
		{"32 MiB", 32 << 20},
		{"1GiB", 1 << 30},
		{"1g", 1 << 30},
		{"2TiB", 2 << 40},
		{"1MB", 1000000},
		{"1kB", 1000},
		{"1GB", 1000000000},
		{" 8MiB ", 8 << 20},
		{"0", 0},
		{"0MiB", 0},
	}
	for _, c := range good {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "MiB", "-1", "1.5MiB", "12XB", "1 2", "99999999999999999999", "9000000TiB", "0x10"}
	for _, in := range bad {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 4096: "4.0 KiB", 32 << 20: "32.0 MiB", -(3 << 20): "-3.0 MiB", 3 << 30: "3.0 GiB",
	} {
		if got := Human(n); got != want {
			t.Errorf("Human(%d) = %q, want %q", n, got, want)
		}
	}
}
