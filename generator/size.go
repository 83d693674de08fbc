package generator

import "github.com/lvm-um-gen/lvm-um-gen/generator/size"

// Byte multipliers; the parser and printers live in generator/size so the
// device module can use them without importing the generator.
const (
	KiB = size.KiB
	MiB = size.MiB
	GiB = size.GiB
	TiB = size.TiB
)

// ParseSize parses a byte count (see size.Parse).
func ParseSize(s string) (int64, error) { return size.Parse(s) }

// FormatSize renders a byte count for people (see size.Format).
func FormatSize(n int64) string { return size.Format(n) }

// HumanSize renders a byte count in the largest binary unit (see size.Human).
func HumanSize(n int64) string { return size.Human(n) }
