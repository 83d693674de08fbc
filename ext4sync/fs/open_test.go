package fs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// fixture describes one kind of image the tests build.
type fixture struct {
	name, bs, size string
	extra          []string
}

var fixtures = []fixture{
	{"1k", "1024", "32M", nil},
	{"4k", "4096", "300M", nil},
	{"4k-32bit", "4096", "300M", []string{"-O", "^64bit"}},
	{"2k", "2048", "64M", nil},
	{"1k-uninit_bg", "1024", "32M", []string{"-O", "^metadata_csum,^metadata_csum_seed,uninit_bg"}},
	{"1k-no-csum", "1024", "32M", []string{"-O", "^metadata_csum,^metadata_csum_seed,^uninit_bg"}},
}

func TestOpenMatchesDumpe2fs(t *testing.T) {
	t.Parallel()
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			img := buildImage(t, fx.bs, fx.size, fx.extra...)
			dev := loadDev(t, img)
			f, err := Open(dev, Options{})
			if err != nil {
				t.Fatal(err)
			}
			hdr, groups := dumpe2fs(t, img)
			sb := f.Superblock()
			check := func(key string, got any) {
				t.Helper()
				if want := hdr[key]; fmt.Sprint(got) != want {
					t.Errorf("%s: got %v, dumpe2fs %q", key, got, want)
				}
			}
			check("Inode count", f.InodesCount())
			check("Block count", f.BlocksCount())
			check("Block size", f.BlockSize())
			check("Free blocks", f.FreeBlocksCount())
			check("Free inodes", f.FreeInodesCount())
			check("First block", f.Geometry().FirstDataBlock)
			check("Blocks per group", f.Geometry().BlocksPerGroup)
			check("Inodes per group", f.Geometry().InodesPerGroup)
			check("Inode size", f.InodeSize())
			check("Reserved GDT blocks", sb.ReservedGdtBlocks)
			check("First inode", f.Geometry().FirstIno)
			check("Journal inode", sb.JournalInum)
			check("Orphan file inode", sb.OrphanFileInum)
			if f.HasMetadataCsum() {
				check("Checksum", fmt.Sprintf("%#08x", sb.Checksum))
				check("Checksum seed", fmt.Sprintf("%#08x", f.CsumSeed()))
			}
			check("Inode blocks per group", f.Geometry().ItableBlocks)
			if hdr["Filesystem features"] != strings.Join(featureList(&sb), " ") {
				t.Errorf("features: dumpe2fs %q, ours %q", hdr["Filesystem features"], featureList(&sb))
			}
			if hdr["Group descriptor size"] != "" {
				check("Group descriptor size", sb.DescSize)
			}
			checkGroups(t, f, groups)
			checkInodes(t, f, img)
		})
	}
}

// featureList orders features as dumpe2fs prints them: compat, incompat,
// ro_compat, each by bit.
func featureList(sb *disk.Superblock) []string {
	var out []string
	for _, s := range []string{sb.FeatureCompat.String(), sb.FeatureIncompat.String(), sb.FeatureRoCompat.String()} {
		if s != "" {
			out = append(out, strings.Fields(s)...)
		}
	}
	return out
}

var (
	groupRe  = regexp.MustCompile(`^Group (\d+): \(Blocks (\d+)-(\d+)\)(?: csum (0x[0-9a-f]+))?(?: \[(.*)\])?`)
	countsRe = regexp.MustCompile(`^\s+(\d+) free blocks, (\d+) free inodes, (\d+) directories(?:, (\d+) unused inodes)?`)
	locRe    = regexp.MustCompile(`^\s+(Block bitmap|Inode bitmap|Inode table) at (\d+)`)
)

func atoi(s string) uint64 { n, _ := strconv.ParseUint(s, 10, 64); return n }

// checkGroups compares every group's descriptor with dumpe2fs's lines.
func checkGroups(t *testing.T, f *FS, lines []string) {
	t.Helper()
	stats := f.GroupStats()
	g := -1
	seen := 0
	for _, l := range lines {
		if m := groupRe.FindStringSubmatch(l); m != nil {
			g = int(atoi(m[1]))
			seen++
			gd := f.gds[g]
			if f.geo.GroupFirstBlock(uint32(g)) != atoi(m[2]) || f.geo.GroupFirstBlock(uint32(g))+uint64(f.geo.GroupBlocks(uint32(g)))-1 != atoi(m[3]) {
				t.Errorf("group %d range: %s", g, l)
			}
			if m[4] != "" && fmt.Sprintf("%#04x", gd.Checksum) != m[4] {
				t.Errorf("group %d csum %#04x: %s", g, gd.Checksum, l)
			}
			var flags []string
			for _, fl := range []struct {
				bit  uint16
				name string
			}{{disk.BgInodeUninit, "INODE_UNINIT"}, {disk.BgBlockUninit, "BLOCK_UNINIT"}, {disk.BgItableZeroed, "ITABLE_ZEROED"}} {
				if gd.Flags&fl.bit != 0 {
					flags = append(flags, fl.name)
				}
			}
			if strings.Join(flags, ", ") != m[5] {
				t.Errorf("group %d flags %v: %s", g, flags, l)
			}
			continue
		}
		if g < 0 {
			continue
		}
		gd := f.gds[g]
		if m := countsRe.FindStringSubmatch(l); m != nil {
			st := stats[g]
			if uint64(st.FreeBlocks) != atoi(m[1]) || uint64(st.FreeInodes) != atoi(m[2]) || uint64(st.UsedDirs) != atoi(m[3]) ||
				(m[4] != "" && uint64(st.ItableUnused) != atoi(m[4])) {
				t.Errorf("group %d counts %+v: %s", g, st, l)
			}
		}
		if m := locRe.FindStringSubmatch(l); m != nil {
			want := atoi(m[2])
			got := map[string]uint64{"Block bitmap": gd.BlockBitmap(), "Inode bitmap": gd.InodeBitmap(), "Inode table": gd.InodeTable()}[m[1]]
			if got != want {
				t.Errorf("group %d %s at %d: %s", g, m[1], got, l)
			}
		}
	}
	if seen != int(f.geo.Groups) {
		t.Errorf("dumpe2fs listed %d groups, we have %d", seen, f.geo.Groups)
	}
}

// checkInodes compares a few inodes with debugfs stat.
func checkInodes(t *testing.T, f *FS, img string) {
	t.Helper()
	for _, ino := range []uint32{2, 7, 8, 11, 12, 13, 14, 15} {
		in, err := f.ReadInode(ino)
		if err != nil {
			t.Fatalf("inode %d: %v", ino, err)
		}
		out := debugfs(t, img, fmt.Sprintf("stat <%d>", ino))
		want := func(re string) string {
			m := regexp.MustCompile(re).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("inode %d: %q not in debugfs output:\n%s", ino, re, out)
			}
			return m[1]
		}
		if got := fmt.Sprintf("%04o", in.Mode&disk.ModePermMask); got != want(`Mode:\s+(\d+)`) {
			t.Errorf("inode %d mode %s", ino, got)
		}
		if got := fmt.Sprint(in.LinksCount); got != want(`Links:\s+(\d+)`) {
			t.Errorf("inode %d links %s", ino, got)
		}
		if got := fmt.Sprint(in.Size()); got != want(`Size:\s+(\d+)`) {
			t.Errorf("inode %d size %s", ino, got)
		}
		if got := fmt.Sprint(in.Sectors(f.BlockSize())); got != want(`Blockcount:\s+(\d+)`) {
			t.Errorf("inode %d blockcount %s", ino, got)
		}
		if got := fmt.Sprint(in.Generation); got != want(`Generation:\s+(\d+)`) {
			t.Errorf("inode %d generation %s", ino, got)
		}
		if got := fmt.Sprintf("0x%x", uint32(in.Flags)); got != want(`Flags:\s+(0x[0-9a-f]+)`) {
			t.Errorf("inode %d flags %s", ino, got)
		}
		if f.InodeSize() > disk.GoodOldInodeSize {
			if got := fmt.Sprint(in.ExtraIsize); got != want(`Size of extra inode fields:\s+(\d+)`) {
				t.Errorf("inode %d extra isize %s", ino, got)
			}
			crc := uint32(in.ChecksumHi)<<16 | uint32(in.ChecksumLo)
			if got := fmt.Sprintf("0x%08x", crc); f.HasMetadataCsum() && got != want(`Inode checksum:\s+(0x[0-9a-f]+)`) {
				t.Errorf("inode %d checksum %s", ino, got)
			}
			sec, nsec := disk.DecodeTime(in.Mtime, in.MtimeExtra)
			if got := fmt.Sprintf("0x%08x:%08x", uint32(sec), nsec<<2|uint32(sec>>32)&3); got != want(`mtime:\s+(0x[0-9a-f]+:[0-9a-f]+)`) {
				t.Errorf("inode %d mtime %s", ino, got)
			}
		}
	}
}

func TestFlushWithoutChangesWritesNothing(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for blk := uint64(0); blk < f.BlocksCount(); blk += 997 {
		if _, err := f.BlockInUse(blk); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if dev.writes != 0 {
		t.Fatalf("flush of an unchanged filesystem wrote %d times", dev.writes)
	}
}
