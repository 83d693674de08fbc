package fs

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

func TestRefusedFeatures(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		feature string // name the error must carry
		opts    []string
	}{
		{"bigalloc", []string{"-O", "bigalloc"}},
		{"inline_data", []string{"-O", "inline_data"}},
		{"quota", []string{"-O", "quota"}},
		{"project", []string{"-O", "quota,project"}},
		{"mmp", []string{"-O", "mmp"}},
		{"encrypt", []string{"-O", "encrypt"}},
		{"casefold", []string{"-O", "casefold"}},
		{"verity", []string{"-O", "verity"}},
		{"large_dir", []string{"-O", "large_dir"}},
		{"ea_inode", []string{"-O", "ea_inode"}},
		{"meta_bg", []string{"-O", "meta_bg,^resize_inode"}},
		{"journal_dev", []string{"-O", "journal_dev"}},
	} {
		t.Run(c.feature, func(t *testing.T) {
			img := mkfsImage(t, "1024", "16M", c.opts...)
			_, err := Open(loadDev(t, img), Options{})
			var fe *FeatureError
			if !errors.Is(err, ErrUnsupported) || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.feature) {
				t.Fatalf("want unsupported %s, got %v", c.feature, err)
			}
		})
	}
}

// patchSuper changes the primary superblock on dev and reseals its checksum.
func patchSuper(t *testing.T, dev *memDev, fn func(sb *disk.Superblock)) {
	t.Helper()
	raw := make([]byte, disk.SuperblockSize)
	if _, err := dev.ReadAt(raw, disk.SuperblockOffset); err != nil {
		t.Fatal(err)
	}
	var sb disk.Superblock
	if err := sb.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	fn(&sb)
	sb.SetChecksum()
	sb.Marshal(raw)
	if _, err := dev.WriteAt(raw, disk.SuperblockOffset); err != nil {
		t.Fatal(err)
	}
}

func TestRefusedStates(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "16M")
	for _, c := range []struct {
		name, msg string
		class     error
		fn        func(sb *disk.Superblock)
	}{
		{"needs_recovery", "needs recovery", ErrNotClean, func(sb *disk.Superblock) { sb.FeatureIncompat |= disk.IncompatRecover }},
		{"error-state", "error state", ErrNotClean, func(sb *disk.Superblock) { sb.State |= disk.StateError }},
		{"orphan-recovery", "orphan recovery", ErrNotClean, func(sb *disk.Superblock) { sb.State |= disk.StateOrphan }},
		{"unclean", "not cleanly unmounted", ErrNotClean, func(sb *disk.Superblock) { sb.State &^= disk.StateValid }},
		{"errors-recorded", "errors recorded", ErrNotClean, func(sb *disk.Superblock) { sb.ErrorCount, sb.FirstErrorIno = 2, 14 }},
		{"orphan-list", "orphan list", ErrNotClean, func(sb *disk.Superblock) { sb.LastOrphan = 13 }},
		{"orphan-present", "orphan_present", ErrNotClean, func(sb *disk.Superblock) { sb.FeatureRoCompat |= disk.RoCompatOrphanPresent }},
		{"unknown-incompat", "FEATURE_I30", ErrUnsupported, func(sb *disk.Superblock) { sb.FeatureIncompat |= 1 << 30 }},
		{"unknown-rocompat", "FEATURE_R29", ErrUnsupported, func(sb *disk.Superblock) { sb.FeatureRoCompat |= 1 << 29 }},
		{"bad-magic", "bad magic", ErrCorrupt, func(sb *disk.Superblock) { sb.Magic = 0x1234 }},
		{"block-size", "block size", ErrUnsupported, func(sb *disk.Superblock) { sb.LogBlockSize, sb.LogClusterSize = 4, 4 }},
		{"inode-count", "inodes", ErrCorrupt, func(sb *disk.Superblock) { sb.InodesCount += 8 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dev := loadDev(t, img)
			patchSuper(t, dev, c.fn)
			_, err := Open(dev, Options{})
			if !errors.Is(err, c.class) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("want %v mentioning %q, got %v", c.class, c.msg, err)
			}
		})
	}
}

func TestOrphanFileEntryRefused(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "4096", "64M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ino := f.Superblock().OrphanFileInum
	in, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.extentRuns(ino, in)
	if err != nil || len(runs) == 0 {
		t.Fatalf("orphan file runs %v %v", runs, err)
	}
	b, err := f.ReadBlock(runs[0].Physical)
	if err != nil {
		t.Fatal(err)
	}
	bs := len(b)
	binary.LittleEndian.PutUint32(b[8:], 13)
	var nr [8]byte
	binary.LittleEndian.PutUint64(nr[:], runs[0].Physical)
	crc := disk.Crc32c(disk.Crc32c(f.InodeSeed(ino, in.Generation), nr[:]), b[:bs-orphanTailSize])
	binary.LittleEndian.PutUint32(b[bs-4:], crc)
	if err := f.WriteBlock(runs[0].Physical, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dev, Options{}); !errors.Is(err, ErrNotClean) || !strings.Contains(err.Error(), "orphan inode 13") {
		t.Fatalf("want orphan refusal, got %v", err)
	}
	b[0]++ // now the checksum no longer matches
	if err := f.WriteBlock(runs[0].Physical, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dev, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "orphan file") {
		t.Fatalf("want orphan block checksum error, got %v", err)
	}
}

func TestCorruption(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	flip := func(dev *memDev, off int64) {
		var b [1]byte
		dev.ReadAt(b[:], off)
		b[0] ^= 0x40
		dev.WriteAt(b[:], off)
	}
	t.Run("superblock", func(t *testing.T) {
		dev := loadDev(t, img)
		flip(dev, disk.SuperblockOffset+0x100)
		_, err := Open(dev, Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "superblock") || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("descriptor", func(t *testing.T) {
		dev := loadDev(t, img)
		flip(dev, 2*1024+64+0x0C) // group 1's free blocks count, table at block 2
		_, err := Open(dev, Options{})
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "group 1 descriptor in block 2") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("inode", func(t *testing.T) {
		dev := loadDev(t, img)
		f, err := Open(dev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		blk, off := f.layout.InodeBlock(disk.RootIno)
		flip(dev, int64(blk)*1024+int64(off)+0x10)
		if _, err := f.ReadInode(disk.RootIno); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "inode 2 in block") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bitmap", func(t *testing.T) {
		dev := loadDev(t, img)
		f, err := Open(dev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		flip(dev, int64(f.gds[0].BlockBitmap())*1024+700)
		if _, err := f.BlockInUse(5000); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "group 0 block bitmap") {
			t.Fatalf("got %v", err)
		}
		flip(dev, int64(f.gds[0].InodeBitmap())*1024+100)
		if _, err := f.AllocInode(InodeRequest{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "group 0 inode bitmap") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("truncated", func(t *testing.T) {
		dev := loadDev(t, img)
		dev.truncate(dev.size / 2)
		if _, err := Open(dev, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("got %v", err)
		}
		dev.truncate(1500)
		if _, err := Open(dev, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestJournalNotEmptyRefused(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "4096", "64M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ino := f.Superblock().JournalInum
	in, err := f.ReadInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.extentRuns(ino, in)
	if err != nil || len(runs) == 0 {
		t.Fatalf("journal runs %v %v", runs, err)
	}
	b, err := f.ReadBlock(runs[0].Physical)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(b[jbdStartOff:], 1)
	if err := f.WriteBlock(runs[0].Physical, b); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dev, Options{}); !errors.Is(err, ErrNotClean) || !strings.Contains(err.Error(), "log not empty") {
		t.Fatalf("want journal refusal, got %v", err)
	}
}

func TestOverlappingMetadataRefused(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	dev := loadDev(t, img)
	f, err := Open(dev, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Point group 1's block bitmap into group 0's inode table.
	gd := f.gds[1]
	gd.BlockBitmapLo = uint32(f.gds[0].InodeTable() + 3)
	gd.SetChecksum(&f.sb, 1)
	raw := make([]byte, f.descSize)
	if err := gd.Marshal(raw, f.descSize); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.WriteAt(raw, int64(f.geo.GdtStart())*1024+int64(f.descSize)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dev, Options{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "group 1 block bitmap") || !strings.Contains(err.Error(), "overlaps group 0 inode table") {
		t.Fatalf("want overlap error, got %v", err)
	}
}

func TestJournalBlocksAreMetadata(t *testing.T) {
	t.Parallel()
	img := buildImage(t, "1024", "32M")
	f, err := Open(loadDev(t, img), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.ReadInode(f.Superblock().JournalInum)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := f.extentRuns(f.Superblock().JournalInum, in)
	if err != nil || len(runs) == 0 {
		t.Fatalf("%v %v", runs, err)
	}
	j := runs[0].Physical + 5
	if !f.IsMetadata(j) {
		t.Fatalf("journal block %d not metadata", j)
	}
	if err := f.FreeBlocks(j, 1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("freeing a journal block: %v", err)
	}
}
