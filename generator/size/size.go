// Package size parses and prints byte counts the way lvm-um-gen and the
// lvm-um device module take them (flags, the module's config file). It is
// a leaf package: the device module imports it without pulling in the
// generator (and mender-artifact with it).
package size

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Binary and decimal multipliers accepted by Parse.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40

	kB int64 = 1000
	MB int64 = 1000 * kB
	GB int64 = 1000 * MB
	TB int64 = 1000 * GB
)

// sizeSuffixes maps a lower-cased suffix to its multiplier. Single letters
// are binary, as in lvcreate -L 32M and dd bs=1M, because the sizes this
// tool takes are LVM sizes; the two-letter SI forms (kB, MB...) are decimal,
// as in coreutils; the IEC forms (KiB, MiB...) are binary.
var sizeSuffixes = map[string]int64{
	"":    1,
	"b":   1,
	"k":   KiB,
	"kib": KiB,
	"m":   MiB,
	"mib": MiB,
	"g":   GiB,
	"gib": GiB,
	"t":   TiB,
	"tib": TiB,
	"kb":  kB,
	"mb":  MB,
	"gb":  GB,
	"tb":  TB,
}

// Parse parses a byte count: plain bytes ("4096"), IEC binary units
// ("4KiB", "32MiB", "1GiB", "1TiB"), single-letter binary units as LVM and
// dd use them ("32M" = 32 MiB, "4k" = 4 KiB) and two-letter SI units
// ("1MB" = 1,000,000 bytes). Suffixes are case-insensitive and may follow
// a space. Only whole, non-negative numbers are accepted.
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a whole number of bytes with an optional unit (e.g. 4096, 4KiB, 32MiB, 1GiB)", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: number out of range", s)
	}
	suffix := strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeSuffixes[suffix]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KiB, MiB, GiB, TiB, K, M, G, T, kB, MB, GB, TB)", s, t[i:])
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// Format renders a byte count for people: the exact number of bytes
// followed by a binary approximation, e.g. "33554432 (32.0 MiB)".
func Format(n int64) string {
	return fmt.Sprintf("%d (%s)", n, Human(n))
}

// Human renders a byte count with one decimal in the largest binary
// unit not exceeding it: "512 B", "4.0 KiB", "32.0 MiB". Negative counts
// (a deficit) keep their sign.
func Human(n int64) string {
	sign := ""
	u := float64(n)
	if n < 0 {
		sign = "-"
		u = -u
	}
	switch {
	case u >= float64(TiB):
		return fmt.Sprintf("%s%.1f TiB", sign, u/float64(TiB))
	case u >= float64(GiB):
		return fmt.Sprintf("%s%.1f GiB", sign, u/float64(GiB))
	case u >= float64(MiB):
		return fmt.Sprintf("%s%.1f MiB", sign, u/float64(MiB))
	case u >= float64(KiB):
		return fmt.Sprintf("%s%.1f KiB", sign, u/float64(KiB))
	}
	return fmt.Sprintf("%s%d B", sign, int64(u))
}
