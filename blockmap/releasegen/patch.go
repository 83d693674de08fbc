package releasegen

import (
	"fmt"
	"strings"
)

// Patch derives a security update from base: see the package doc for what
// it changes. base is not modified.
func Patch(base *Release, cfg Config) *Release {
	r := rng(cfg.Seed, "patch")
	b := &builder{cfg: cfg, files: map[string]*File{}}
	recompile := func(f *File) *File {
		g := *f
		g.Mtime = patchMtime
		g.recipe = patched{seed: cfg.Seed, label: "patch:" + f.Path, from: f.recipe}
		return &g
	}
	for _, f := range base.Files {
		p := f.Path
		switch {
		case strings.HasPrefix(p, "lib/modules/"+kernelOld):
			// The version bump renames the whole directory; a few modules
			// and modules.dep really change.
			g := *f
			g.Path = "lib/modules/" + kernelNew + strings.TrimPrefix(p, "lib/modules/"+kernelOld)
			if f.Kind == Regular && (r.IntN(100) < 3 || strings.HasSuffix(p, "modules.dep")) {
				h := recompile(f)
				g.recipe, g.Mtime = h.recipe, h.Mtime
			}
			b.add(&g)
		case p == "usr/lib/"+sslOld:
			g := recompile(f)
			g.Path = "usr/lib/" + sslNew
			b.add(g)
		case p == "usr/lib/libssl.so.3":
			g := *f
			g.Target, g.Mtime = sslNew, patchMtime
			b.add(&g)
		case strings.Contains(p, removedPkg):
			// the removed package
		case strings.HasPrefix(p, zoneinfoRoot+"/") && f.Kind == Regular:
			// tzdata: every file rebuilt (new mtime), some with new rules.
			g := *f
			g.Mtime = patchMtime
			if r.IntN(100) < 15 {
				g.recipe = patched{seed: cfg.Seed, label: "tz:" + p, from: f.recipe}
			}
			b.add(&g)
		case f.Kind == Regular && strings.HasPrefix(p, "usr/lib/") && strings.Contains(p, ".so."):
			if r.IntN(100) < 10 {
				b.add(recompile(f))
			} else {
				b.add(f)
			}
		case f.Kind == Regular && (strings.Contains(p, "bin/")):
			if r.IntN(100) < 5 {
				b.add(recompile(f))
			} else {
				b.add(f)
			}
		case f.Kind == Regular && strings.HasSuffix(p, ".py"):
			if r.IntN(100) < 2 {
				b.add(recompile(f))
			} else {
				b.add(f)
			}
		case p == "etc/os-release":
			b.add(recompile(f))
		default:
			b.add(f)
		}
	}
	// The added package.
	b.bin("usr/bin/"+addedPkg, 0o755, r, 40<<10, 120<<10)
	for i := 0; i < cfg.count(20); i++ {
		b.text(fmt.Sprintf("usr/share/%s/data%d", addedPkg, i), 0o644, r, 1<<10, 30<<10)
	}
	for _, f := range b.files {
		if f.Mtime == baseMtime && strings.HasPrefix(f.Path, "usr/share/"+addedPkg) || f.Path == "usr/bin/"+addedPkg {
			f.Mtime = patchMtime
		}
	}
	// Directories keep the base's metadata unless new.
	for p, f := range b.files {
		if f.Kind == Dir {
			if old := base.Lookup(p); old != nil && old.Kind == Dir {
				b.files[p] = old
			}
		}
	}
	files := make([]*File, 0, len(b.files))
	for _, f := range b.files {
		files = append(files, f)
	}
	return newRelease("patch", files)
}
