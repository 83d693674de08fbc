package e2e

import (
	"bufio"
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// libDirs are where Debian (amd64) keeps the shared libraries a binary needs.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib",
}

// addHostFile copies a host file into the archive at the same path, keeping
// its permission bits.
func (a *cpioArchive) addHostFile(hostPath, archivePath string) error {
	data, err := os.ReadFile(hostPath)
	if err != nil {
		return err
	}
	st, err := os.Stat(hostPath)
	if err != nil {
		return err
	}
	a.addFile(archivePath, uint32(st.Mode().Perm()), data)
	return nil
}

// addBinary copies a host executable and, for a dynamic one, its ELF
// interpreter and the closure of its DT_NEEDED libraries (found in libDirs,
// stored under their own paths, symlinks resolved) into the archive.
func (a *cpioArchive) addBinary(hostPath, archivePath string) error {
	if err := a.addHostFile(hostPath, archivePath); err != nil {
		return err
	}
	return a.addLibsOf(hostPath, map[string]bool{})
}

func (a *cpioArchive) addLibsOf(hostPath string, seen map[string]bool) error {
	f, err := elf.Open(hostPath)
	if err != nil {
		return fmt.Errorf("%s: %w", hostPath, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return fmt.Errorf("%s: interpreter: %w", hostPath, err)
		}
		interp := strings.TrimRight(string(b), "\x00")
		if err := a.addLibrary(interp, seen); err != nil {
			return err
		}
	}
	needed, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: %w", hostPath, err)
	}
	for _, lib := range needed {
		found := ""
		for _, d := range libDirs {
			if _, err := os.Stat(filepath.Join(d, lib)); err == nil {
				found = filepath.Join(d, lib)
				break
			}
		}
		if found == "" {
			return fmt.Errorf("%s needs %s, which is in none of %v", hostPath, lib, libDirs)
		}
		if err := a.addLibrary(found, seen); err != nil {
			return err
		}
	}
	return nil
}

// addLibrary stores a library under the path the loader looks for, with the
// content of the file the path resolves to, then adds what it needs.
func (a *cpioArchive) addLibrary(p string, seen map[string]bool) error {
	if seen[p] {
		return nil
	}
	seen[p] = true
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return err
	}
	if err := a.addHostFile(real, p); err != nil {
		return err
	}
	return a.addLibsOf(real, seen)
}

// kernelModules returns the .ko paths (relative to the modules directory)
// of the named modules and everything they depend on, in load order
// (dependencies first), from the kernel's modules.dep.
func kernelModules(modDir string, names []string) ([]string, error) {
	f, err := os.Open(filepath.Join(modDir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	deps := map[string][]string{} // module path -> its dependencies' paths
	byName := map[string]string{} // module name -> path
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		mod, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		byName[modName(mod)] = mod
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var order []string
	done := map[string]bool{}
	var visit func(m string)
	visit = func(m string) {
		if done[m] {
			return
		}
		done[m] = true
		for _, d := range deps[m] {
			visit(d)
		}
		order = append(order, m)
	}
	for _, n := range names {
		m, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			// Built into this kernel, or not there at all: the guest
			// finds out (its /sys/module names it when built in).
			continue
		}
		visit(m)
	}
	return order, nil
}

// modName is a module's name as modules.dep spells its file, with the
// kernel's dash-underscore equivalence folded to underscores.
func modName(p string) string {
	b := path.Base(p)
	for _, ext := range []string{".ko.xz", ".ko.zst", ".ko.gz", ".ko"} {
		if strings.HasSuffix(b, ext) {
			b = strings.TrimSuffix(b, ext)
			break
		}
	}
	return strings.ReplaceAll(b, "-", "_")
}
