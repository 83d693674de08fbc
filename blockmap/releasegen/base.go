package releasegen

import (
	"fmt"
	"math/rand/v2"
	"path"
)

const (
	baseMtime    = 1700000000 // the base release's build time
	patchMtime   = 1702000000 // the update's build time
	kernelOld    = "6.1.0-21"
	kernelNew    = "6.1.0-22"
	sslOld       = "libssl.so.3.0.13"
	sslNew       = "libssl.so.3.0.14"
	removedPkg   = "oldpkg"
	addedPkg     = "newpkg"
	zoneinfoRoot = "usr/share/zoneinfo"
)

// binRecipe and textRecipe generate content from a seed and a label;
// patched wraps another recipe with a recompile.
type binRecipe struct {
	seed  uint64
	label string
	size  int
}

func (b binRecipe) content() []byte { return binary(rng(b.seed, b.label), b.size) }

type textRecipe struct {
	seed  uint64
	label string
	size  int
}

func (t textRecipe) content() []byte { return text(rng(t.seed, t.label), t.size) }

type patched struct {
	seed  uint64
	label string
	from  recipe
}

func (p patched) content() []byte { return patchBinary(rng(p.seed, p.label), p.from.content()) }

// builder collects the files of a release and creates parent directories.
type builder struct {
	cfg   Config
	files map[string]*File
}

func (b *builder) dir(p string) {
	for p != "" && p != "." {
		if _, ok := b.files[p]; ok {
			return
		}
		b.files[p] = &File{Path: p, Kind: Dir, Mode: 0o755, Mtime: baseMtime}
		p = path.Dir(p)
	}
}

func (b *builder) add(f *File) {
	b.dir(path.Dir(f.Path))
	b.files[f.Path] = f
}

func (b *builder) bin(p string, mode uint32, r *rand.Rand, lo, hi int) {
	size := lo + r.IntN(hi-lo)
	b.add(&File{Path: p, Kind: Regular, Mode: mode, Mtime: baseMtime, recipe: binRecipe{b.cfg.Seed, p, size}})
}

func (b *builder) text(p string, mode uint32, r *rand.Rand, lo, hi int) {
	size := lo + r.IntN(hi-lo)
	b.add(&File{Path: p, Kind: Regular, Mode: mode, Mtime: baseMtime, recipe: textRecipe{b.cfg.Seed, p, size}})
}

func (b *builder) link(p, target string) {
	b.add(&File{Path: p, Kind: Symlink, Mode: 0o777, Target: target, Mtime: baseMtime})
}

// Base generates the base release.
func Base(cfg Config) *Release {
	b := &builder{cfg: cfg, files: map[string]*File{}}
	r := rng(cfg.Seed, "base")
	for _, d := range []string{"dev", "proc", "sys", "run", "tmp", "var/log", "var/lib", "home/root", "mnt", "media"} {
		b.dir(d)
	}
	b.files["tmp"].Mode = 0o1777

	for i := 0; i < cfg.count(300); i++ {
		name := fmt.Sprintf("lib%s%d", words[i%len(words)], i)
		real := fmt.Sprintf("usr/lib/%s.so.%d.%d.%d", name, 1+i%3, i%10, i%7)
		b.bin(real, 0o755, r, 8<<10, 600<<10)
		b.link(fmt.Sprintf("usr/lib/%s.so.%d", name, 1+i%3), path.Base(real))
	}
	b.bin("usr/lib/"+sslOld, 0o755, r, 500<<10, 700<<10)
	b.link("usr/lib/libssl.so.3", sslOld)

	for i := 0; i < cfg.count(450); i++ {
		dir := []string{"usr/bin", "usr/sbin", "bin", "sbin"}[i%4]
		b.bin(fmt.Sprintf("%s/%s-%d", dir, words[(i*7)%len(words)], i), 0o755, r, 4<<10, 160<<10)
	}
	b.bin("usr/bin/sudo", 0o4755, r, 100<<10, 200<<10)
	b.bin("usr/bin/"+removedPkg, 0o755, r, 40<<10, 80<<10)

	for i := 0; i < cfg.count(800); i++ {
		sub := []string{"drivers/net", "drivers/usb", "drivers/gpu", "fs", "net", "crypto", "sound"}[i%7]
		b.bin(fmt.Sprintf("lib/modules/%s/kernel/%s/mod%d.ko", kernelOld, sub, i), 0o644, r, 4<<10, 90<<10)
	}
	b.text(fmt.Sprintf("lib/modules/%s/modules.dep", kernelOld), 0o644, r, 20<<10, 40<<10)

	for i := 0; i < cfg.count(1800); i++ {
		region := []string{"Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Etc"}[i%7]
		b.bin(fmt.Sprintf("%s/%s/Zone%04d", zoneinfoRoot, region, i), 0o644, r, 100, 3000)
	}

	for i := 0; i < cfg.count(4000); i++ {
		b.text(fmt.Sprintf("usr/lib/python3.11/%s/m%d.py", words[i%len(words)], i), 0o644, r, 500, 16<<10)
	}

	for i := 0; i < cfg.count(600); i++ {
		pkg := fmt.Sprintf("usr/share/doc/pkg%03d", i)
		b.text(pkg+"/copyright", 0o644, r, 1<<10, 8<<10)
		b.text(pkg+"/changelog", 0o644, r, 1<<10, 8<<10)
	}
	for i := 0; i < cfg.count(20); i++ {
		b.text(fmt.Sprintf("usr/share/%s/data%d", removedPkg, i), 0o644, r, 1<<10, 30<<10)
	}

	for i := 0; i < cfg.count(300); i++ {
		b.text(fmt.Sprintf("etc/%s/%s%d.conf", words[i%len(words)], words[(i*3)%len(words)], i), 0o644, r, 100, 3000)
	}
	b.text("etc/os-release", 0o644, r, 200, 300)
	b.text("etc/shadow", 0o600, r, 300, 600)

	files := make([]*File, 0, len(b.files))
	for _, f := range b.files {
		files = append(files, f)
	}
	return newRelease("base", files)
}
