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

// String renders the value in the largest binary unit that divides it,
// so defaults read "1MiB" rather than "1048576".
func (s sizeValue) String() string {
	if s.n == nil || *s.n == 0 {
		return ""
	}
	n := *s.n
	for _, u := range []struct {
		name string
		size int64
	}{{"TiB", generator.TiB}, {"GiB", generator.GiB}, {"MiB", generator.MiB}, {"KiB", generator.KiB}} {
		if n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
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

// sizesHelp explains size arguments once, in each command's long help.
const sizesHelp = `Sizes are bytes, or a whole number with a unit: KiB, MiB, GiB, TiB
(binary); K, M, G, T (also binary, as lvcreate -L and dd read them); kB,
MB, GB, TB (decimal).`

func sizeFlag(fs *pflag.FlagSet, p *int64, name string, def int64, usage string) {
	*p = def
	fs.Var(sizeValue{n: p}, name, usage)
}

// reserveFlag is --reserve, which may be zero.
func reserveFlag(fs *pflag.FlagSet, p *int64) {
	*p = generator.DefaultReserve
	fs.Var(sizeValue{n: p, zeroOK: true}, "reserve",
		"runtime reserve kept free in the snapshot (0 allowed)")
}

// geometryFlags are --write-unit and --chunk-size.
func geometryFlags(fs *pflag.FlagSet, g *generator.Geometry) {
	sizeFlag(fs, &g.WriteUnit, "write-unit", 0, "unit in which the device compares and writes the image (default: the chunk size, as the lvm-um module writes; 1MiB for devices still running the 2021 prototype)")
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

func checkTop(n int) error {
	if n < 0 {
		return usageErr("--top %d: must not be negative", n)
	}
	return nil
}
