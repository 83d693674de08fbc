package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/spf13/pflag"
)

// sizeValue is a byte-count flag parsed by generator.ParseSize; unless
// zeroOK, zero is refused.
type sizeValue struct {
	n      *int64
	zeroOK bool
}

func (s sizeValue) String() string {
	if s.n == nil || *s.n == 0 {
		return ""
	}
	return strconv.FormatInt(*s.n, 10)
}

func (s sizeValue) Set(v string) error {
	n, err := generator.ParseSize(v)
	if err != nil {
		return err
	}
	if n == 0 && !s.zeroOK {
		return fmt.Errorf("size %q: must be greater than zero", v)
	}
	*s.n = n
	return nil
}

func (s sizeValue) Type() string { return "size" }

const sizeHelp = " (bytes, or with a unit: 4KiB, 32MiB, 1GiB; K/M/G/T are binary as in lvcreate, kB/MB/GB are decimal)"

func sizeFlag(fs *pflag.FlagSet, p *int64, name string, def int64, usage string) {
	*p = def
	fs.Var(sizeValue{n: p}, name, usage+sizeHelp)
}

// reserveFlag is --reserve, which may be zero.
func reserveFlag(fs *pflag.FlagSet, p *int64) {
	*p = generator.DefaultReserve
	fs.Var(sizeValue{n: p, zeroOK: true}, "reserve",
		"runtime reserve kept free in the snapshot (default 8MiB; 0 allowed)"+sizeHelp)
}

// geometryFlags are --write-unit and --chunk-size.
func geometryFlags(fs *pflag.FlagSet, g *generator.Geometry) {
	sizeFlag(fs, &g.WriteUnit, "write-unit", generator.DefaultWriteUnit, "unit in which the device compares and writes the image (lvm-um: 1MiB)")
	sizeFlag(fs, &g.ChunkSize, "chunk-size", generator.DefaultChunkSize, "the LVM snapshot's chunk size (lvcreate -c; LVM default 4KiB)")
}

// keyValues parses repeated KEY:VALUE flags (as mender-artifact's -p/-d).
func keyValues(flag string, list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			return nil, usageErr("%s %q: want KEY:VALUE", flag, kv)
		}
		if _, dup := m[k]; dup {
			return nil, usageErr("%s: key %q given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org): the
// time stamped on every entry of the artifact (0 when unset) and given to
// the builder (nil when unset).
func (a *app) sourceDateEpoch() (int64, *int64, error) {
	v := a.getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return 0, nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > generator.MaxEpoch {
		return 0, nil, usageErr("SOURCE_DATE_EPOCH %q: want seconds since 1970, from 0 to %d", v, int64(generator.MaxEpoch))
	}
	return n, &n, nil
}

// notImplementedMap is the answer to --map until the SVG map lands.
func notImplementedMap(path string) error {
	if path == "" {
		return nil
	}
	return usageErr("--map %s: the unit map is not implemented yet", path)
}

func checkTop(n int) error {
	if n < 0 {
		return usageErr("--top %d: must not be negative", n)
	}
	return nil
}
