package disk

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// mkfsImage builds a Yocto-like image the way the project's fixtures do.
func mkfsImage(t *testing.T, blockSize string, extra ...string) []byte {
	t.Helper()
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "etc", "hostname"), []byte("box\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "img")
	args := append([]string{"-q", "-F", "-i", "4096", "-O", "metadata_csum_seed,orphan_file", "-b", blockSize}, extra...)
	args = append(args, "-d", tree, img, "8M")
	if out, err := exec.Command(mkfs, args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestRoundTripMkfsStructures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bs    string
		extra []string
	}{
		{"1k", "1024", nil},
		{"4k", "4096", nil},
		{"4k-32bit", "4096", []string{"-O", "^64bit"}},
		{"1k-uninit_bg", "1024", []string{"-O", "^metadata_csum,^metadata_csum_seed,uninit_bg"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := mkfsImage(t, tc.bs, tc.extra...)
			var sb Superblock
			sbRaw := raw[SuperblockOffset : SuperblockOffset+SuperblockSize]
			if err := sb.Unmarshal(sbRaw); err != nil {
				t.Fatal(err)
			}
			out := make([]byte, SuperblockSize)
			sb.Marshal(out)
			if !bytes.Equal(out, sbRaw) {
				t.Fatal("superblock does not round-trip")
			}
			if sb.Magic != SuperMagic || !sb.VerifyChecksum() {
				t.Fatalf("magic %#x / checksum mismatch", sb.Magic)
			}
			bs := int(sb.BlockSize())
			gdtOff := (int(sb.FirstDataBlock) + 1) * bs
			ds := sb.DescriptorSize()
			groups := int((sb.BlocksCount() - uint64(sb.FirstDataBlock) + uint64(sb.BlocksPerGroup) - 1) / uint64(sb.BlocksPerGroup))
			var itable uint64
			for g := 0; g < groups; g++ {
				d := raw[gdtOff+g*ds : gdtOff+(g+1)*ds]
				var gd GroupDesc
				if err := gd.Unmarshal(d, ds); err != nil {
					t.Fatal(err)
				}
				enc := make([]byte, ds)
				if err := gd.Marshal(enc, ds); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(enc, d) {
					t.Fatalf("descriptor %d does not round-trip", g)
				}
				if got := gd.ComputeChecksum(&sb, uint32(g)); got != gd.Checksum {
					t.Fatalf("descriptor %d checksum: got %#x, on disk %#x", g, got, gd.Checksum)
				}
				if g == 0 {
					itable = gd.InodeTable()
				}
				if sb.HasMetadataCsum() {
					bb := raw[int(gd.BlockBitmap())*bs:][:bs]
					if gd.Flags&BgBlockUninit == 0 && !gd.BlockBitmapCsumMatches(ds, BlockBitmapChecksum(sb.CsumSeed(), bb, sb.ClustersPerGroup)) {
						t.Fatalf("group %d block bitmap checksum mismatch", g)
					}
					ib := raw[int(gd.InodeBitmap())*bs:][:bs]
					if gd.Flags&BgInodeUninit == 0 && !gd.InodeBitmapCsumMatches(ds, InodeBitmapChecksum(sb.CsumSeed(), ib, sb.InodesPerGroup)) {
						t.Fatalf("group %d inode bitmap checksum mismatch", g)
					}
				}
			}
			isz := int(sb.InodeSize)
			for ino := 1; ino <= 16; ino++ {
				r := raw[int(itable)*bs+(ino-1)*isz:][:isz]
				var in Inode
				if err := in.Unmarshal(r); err != nil {
					t.Fatalf("inode %d: %v", ino, err)
				}
				enc := make([]byte, isz)
				if err := in.Marshal(enc); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(enc, r) {
					t.Fatalf("inode %d does not round-trip", ino)
				}
				if sb.HasMetadataCsum() && in.LinksCount > 0 {
					seed := InodeSeed(sb.CsumSeed(), uint32(ino), in.Generation)
					if !VerifyInodeChecksum(seed, r) {
						t.Fatalf("inode %d checksum mismatch", ino)
					}
					cp := in
					if err := cp.SetChecksum(seed, enc); err != nil || !bytes.Equal(enc, r) {
						t.Fatalf("inode %d: SetChecksum changed bytes (%v)", ino, err)
					}
				}
			}
		})
	}
}

func TestTimeRoundTrip(t *testing.T) {
	for _, c := range []struct {
		sec  int64
		nsec uint32
	}{{0, 0}, {1700000000, 123456789}, {-1, 5}, {-1 << 31, 0}, {1<<32 + 7, 999999999}, {1<<34 - 1 - 1<<31, 1}} {
		b, e := EncodeTime(c.sec, c.nsec)
		s, n := DecodeTime(b, e)
		if s != c.sec || n != c.nsec {
			t.Errorf("%d.%d -> %#x,%#x -> %d.%d", c.sec, c.nsec, b, e, s, n)
		}
	}
}

func TestFeatureString(t *testing.T) {
	if s := (IncompatExtents | Incompat64Bit | 1<<30).String(); s != "extent 64bit FEATURE_I30" {
		t.Fatal(s)
	}
}
