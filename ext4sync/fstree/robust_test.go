package fstree_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fstree"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// damageIters is how many damaged images TestReadDamagedNeverPanics reads.
const damageIters = 300

// TestReadDamagedNeverPanics damages random fields of random inodes (the
// inode checksum kept valid) and reads the whole image: Read and Contents
// must return errors, never panic or hang.
func TestReadDamagedNeverPanics(t *testing.T) {
	ext4test.RequireTools(t, "mkfs.ext4", "e2fsck")
	src := t.TempDir()
	if err := genTree(rand.New(rand.NewPCG(9, 9)), src, 1023); err != nil {
		t.Fatal(err)
	}
	img := ext4test.BuildImage(t, src, ext4test.ImageOptions{BlockSize: 1024, Size: 32 << 20})
	base, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	clean, err := fstree.Read(open(t, img, 1024))
	if err != nil {
		t.Fatal(err)
	}
	var inos []uint32
	seen := map[uint32]bool{}
	for _, n := range clean.Tree.Nodes {
		if ino := clean.Inode[n.Path]; !seen[ino] {
			seen[ino] = true
			inos = append(inos, ino)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for iter := 0; iter < damageIters; iter++ {
		ino := inos[rng.IntN(len(inos))]
		t.Run(fmt.Sprintf("%d-ino%d", iter, ino), func(t *testing.T) {
			dev := overlay.New(bytes.NewReader(base), int64(len(base)), overlay.Options{BlockSize: 1024})
			f, err := fs.Open(dev, fs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.ReadInode(ino)
			if err != nil {
				t.Fatal(err)
			}
			damage(rng, raw)
			if err := f.WriteInode(ino, raw); err != nil {
				return
			}
			r, err := fstree.Read(f)
			if err != nil {
				failed++
				return
			}
			r.Tree.Contents.Each(func(_ *tree.Node, rd io.Reader) error {
				_, err := io.CopyN(io.Discard, rd, 1<<20)
				if err == io.EOF {
					err = nil
				}
				return err
			})
		})
	}
	t.Logf("%d of %d damaged images refused by Read", failed, damageIters)
}

// damage changes one field of an inode.
func damage(r *rand.Rand, in *disk.Inode) {
	switch r.IntN(7) {
	case 0:
		in.Mode = uint16(r.Uint32())
	case 1:
		in.SetSize(r.Uint64() >> r.UintN(64))
	case 2:
		in.Flags ^= disk.InodeFlags(1) << r.UintN(32)
	case 3:
		binary.LittleEndian.PutUint32(in.Block[4*r.IntN(15):], r.Uint32()>>r.UintN(32))
	case 4:
		in.SetFileACL(r.Uint64() >> r.UintN(64))
	case 5:
		in.LinksCount = uint16(r.UintN(3))
	default:
		if len(in.Tail) > 0 {
			in.Tail[r.IntN(len(in.Tail))] = byte(r.Uint32())
		}
	}
}
