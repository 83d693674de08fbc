package disk

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// layoutImage builds a small Yocto-like image with one file.
func layoutImage(t testing.TB, bs, size string, extra ...string) string {
	t.Helper()
	ext4test.RequireTools(t, "mkfs.ext4", "fsck.ext4", "dumpe2fs")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "etc", "hostname"), []byte("box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "img")
	args := append([]string{"-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", bs}, extra...)
	args = append(args, "-d", src, img, size)
	if out, err := exec.Command("mkfs.ext4", args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %v: %v\n%s", args, err, out)
	}
	if out, err := exec.Command("fsck.ext4", "-pfD", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("fsck.ext4 -pfD: %v\n%s", err, out)
		}
	}
	return img
}

var (
	reGroup  = regexp.MustCompile(`^Group (\d+): \(Blocks (\d+)-(\d+)\)`)
	reSuper  = regexp.MustCompile(`^\s+(Primary|Backup) superblock at (\d+), Group descriptors at (\d+)-(\d+)`)
	reMeta   = regexp.MustCompile(`^\s+(Block bitmap|Inode bitmap|Inode table) at (\d+)`)
	reResGdt = regexp.MustCompile(`^\s+Reserved GDT blocks at (\d+)-(\d+)`)
)

// dumpGroups parses dumpe2fs's per-group lines into GroupMetas and the
// descriptor and reserved block ranges of group 0.
func dumpGroups(t *testing.T, img string) ([]GroupMeta, [2]uint64, [2]uint64) {
	t.Helper()
	out, err := exec.Command("dumpe2fs", img).Output()
	if err != nil {
		t.Fatalf("dumpe2fs: %v", err)
	}
	var gs []GroupMeta
	var gdt, res [2]uint64
	num := func(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }
	for _, line := range bytes.Split(out, []byte("\n")) {
		s := string(line)
		if reGroup.MatchString(s) {
			gs = append(gs, GroupMeta{})
			continue
		}
		if len(gs) == 0 {
			continue
		}
		g := &gs[len(gs)-1]
		if m := reSuper.FindStringSubmatch(s); m != nil {
			g.Super = true
			if len(gs) == 1 {
				gdt = [2]uint64{num(m[3]), num(m[4])}
			}
		}
		if m := reResGdt.FindStringSubmatch(s); m != nil && len(gs) == 1 {
			res = [2]uint64{num(m[1]), num(m[2])}
		}
		if m := reMeta.FindStringSubmatch(s); m != nil {
			switch m[1] {
			case "Block bitmap":
				g.BlockBitmap = num(m[2])
			case "Inode bitmap":
				g.InodeBitmap = num(m[2])
			default:
				g.InodeTable = num(m[2])
			}
		}
	}
	return gs, gdt, res
}

func TestReadLayoutMatchesDumpe2fs(t *testing.T) {
	for _, c := range []struct {
		name, bs, size string
		extra          []string
	}{
		{"1k", "1024", "40M", nil},
		{"4k", "4096", "300M", nil},
		{"4k-32bit", "4096", "64M", []string{"-O", "^64bit"}},
		{"1k-sparse2", "1024", "40M", []string{"-O", "sparse_super2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := layoutImage(t, c.bs, c.size, c.extra...)
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			l, err := ReadLayout(f)
			if err != nil {
				t.Fatal(err)
			}
			want, gdt, res := dumpGroups(t, img)
			if len(want) != len(l.Group) {
				t.Fatalf("%d groups, dumpe2fs %d", len(l.Group), len(want))
			}
			for g := range want {
				if want[g] != l.Group[g] {
					t.Errorf("group %d: %+v, dumpe2fs %+v", g, l.Group[g], want[g])
				}
			}
			if first := l.FirstDataBlock + 1; gdt != [2]uint64{first, first + l.GdtBlocks - 1} {
				t.Errorf("descriptors %v, layout %d+%d", gdt, first, l.GdtBlocks)
			}
			if l.ReservedGdt > 0 && res != [2]uint64{l.FirstDataBlock + 1 + l.GdtBlocks, l.FirstDataBlock + l.GdtBlocks + l.ReservedGdt} {
				t.Errorf("reserved GDT %v, layout %d", res, l.ReservedGdt)
			}
			// Every metadata block is in a span of its kind.
			of := func(blk uint64) (MetaKind, bool) {
				for _, s := range l.MetadataSpans() {
					if blk >= s.Start && blk < s.End {
						return s.Kind, true
					}
				}
				return 0, false
			}
			for g, gr := range l.Group {
				for blk, kind := range map[uint64]MetaKind{gr.BlockBitmap: MetaBlockBitmap, gr.InodeBitmap: MetaInodeBitmap,
					gr.InodeTable: MetaInodeTable, gr.InodeTable + l.ItableBlocks - 1: MetaInodeTable} {
					if got, ok := of(blk); !ok || got != kind {
						t.Errorf("group %d block %d: %q %v, want %q", g, blk, got, ok, kind)
					}
				}
			}
			if got, _ := of(SuperblockOffset / uint64(l.BlockSize)); got != MetaSuperblock {
				t.Errorf("primary superblock block: %q", got)
			}
			if got, _ := of(l.FirstDataBlock + 1); got != MetaDescriptors {
				t.Errorf("first descriptor block: %q", got)
			}
		})
	}
}

func TestReadLayoutRefusesGarbage(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty": nil,
		"zeros": make([]byte, 8192),
	} {
		if _, err := ReadLayout(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Every single-byte change of a real superblock and descriptor table must
// give a layout or an error, never a panic.
func TestReadLayoutByteFlips(t *testing.T) {
	img := layoutImage(t, "1024", "8M")
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	head := append([]byte(nil), raw[:4096]...)
	for off := 1024; off < len(head); off++ {
		for _, v := range []byte{0x00, 0xFF, head[off] ^ 0x80} {
			b := append([]byte(nil), head...)
			b[off] = v
			l, err := ReadLayout(bytes.NewReader(b))
			if err == nil && len(l.Group) == 0 {
				t.Fatalf("byte %d = %#x: a layout with no groups", off, v)
			}
		}
	}
}
