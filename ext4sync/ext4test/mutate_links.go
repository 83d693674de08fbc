package ext4test

import (
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// breakHardLink replaces one name of a multiply-linked file by a copy.
func (m *mutator) breakHardLink() (string, error) {
	var cand []string
	for _, p := range m.files {
		var st unix.Stat_t
		if unix.Lstat(p, &st) == nil && st.Nlink > 1 {
			cand = append(cand, p)
		}
	}
	p := pick(m.rng, cand)
	if p == "" {
		return "", nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	if err := os.Remove(p); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return "unlink-copy " + m.rel(p), wrap(os.WriteFile(p, b, 0o644))
}

func (m *mutator) makeSparse() (string, error) {
	if m.rng.IntN(2) == 0 {
		f, p, size, err := m.editFile()
		if f == nil || err != nil {
			return "", err
		}
		defer f.Close()
		n := size + int64(1+m.rng.IntN(16))*4096
		return fmt.Sprintf("extend-hole %s %d->%d", m.rel(p), size, n), wrap(f.Truncate(n))
	}
	p := m.g.fresh(pick(m.rng, m.dirs))
	return "add-sparse " + m.rel(p), writeSparse(m.rng, p, int64(4+m.rng.IntN(40))*4096)
}

func (m *mutator) fileToDir() (string, error) {
	p := pick(m.rng, m.files)
	if p == "" {
		return "", nil
	}
	if err := os.Remove(p); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	_, err := m.g.file(p, randSize(m.rng, m.o.MaxSize))
	return "file->dir " + m.rel(p), err
}

func (m *mutator) dirToFile() (string, error) {
	if len(m.dirs) < 2 {
		return "", nil
	}
	p := m.dirs[1+m.rng.IntN(len(m.dirs)-1)]
	if err := os.RemoveAll(p); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return "dir->file " + m.rel(p), wrap(os.WriteFile(p, randContent(m.rng, randSize(m.rng, m.o.MaxSize)), 0o644))
}

func (m *mutator) fileToSymlink() (string, error) {
	p := pick(m.rng, m.files)
	if p == "" {
		return "", nil
	}
	if err := os.Remove(p); err != nil {
		return "", fmt.Errorf("ext4test: %w", err)
	}
	return "file->symlink " + m.rel(p), wrap(os.Symlink(randTarget(m.rng, m.o.MaxTarget), p))
}

func (m *mutator) touch() (string, error) {
	p := pick(m.rng, m.others)
	if p == "" {
		return "", nil
	}
	return "touch " + m.rel(p), setTimes(m.rng, p)
}

func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("ext4test: %w", err)
	}
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }
