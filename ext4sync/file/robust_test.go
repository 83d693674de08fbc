package file_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/file"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/fs"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/overlay"
	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/tree"
)

// damagedIters is how many damaged inodes TestDamagedInodesNeverPanic tries.
const damagedIters = 1500

// mutators damage one field of an inode; the inode checksum is recomputed
// by WriteInode, so the damage reaches this package instead of being caught
// by the checksum.
var mutators = []func(r *rand.Rand, in *disk.Inode){
	func(r *rand.Rand, in *disk.Inode) { in.Mode = uint16(r.Uint32()) },
	func(r *rand.Rand, in *disk.Inode) { in.SetSize(r.Uint64() >> r.UintN(64)) },
	func(r *rand.Rand, in *disk.Inode) { in.Flags ^= disk.InodeFlags(1) << r.UintN(32) },
	func(r *rand.Rand, in *disk.Inode) { in.Block[r.IntN(len(in.Block))] = byte(r.Uint32()) },
	func(r *rand.Rand, in *disk.Inode) {
		binary.LittleEndian.PutUint32(in.Block[4*r.IntN(15):], r.Uint32()>>r.UintN(32))
	},
	func(r *rand.Rand, in *disk.Inode) { in.SetFileACL(r.Uint64() >> r.UintN(64)) },
	func(r *rand.Rand, in *disk.Inode) { in.LinksCount = uint16(r.UintN(3)) },
	func(r *rand.Rand, in *disk.Inode) { in.SetSectors(r.Uint64() >> r.UintN(64)) },
	func(r *rand.Rand, in *disk.Inode) {
		if len(in.Tail) > 0 {
			in.Tail[r.IntN(len(in.Tail))] = byte(r.Uint32())
		}
	},
}

// TestDamagedInodesNeverPanic loads and edits randomly damaged inodes of
// every kind. Errors are expected; a panic or a hang fails the test.
func TestDamagedInodesNeverPanic(t *testing.T) {
	x := newFixture(t, variant{"1k", 1024, false}, func(x *fixture) {
		x.write("f", randBytes(1, 5000))
		x.write("d/g", randBytes(2, 200))
		x.setXattr("f", "user.big", bytes.Repeat([]byte("x"), 600))
		x.setXattr("d/g", "user.s", []byte("s"))
		os.Symlink("fast", filepath.Join(x.src, "fast"))
		os.Symlink(strings.Repeat("slow/", 20), filepath.Join(x.src, "slow"))
	})
	base, err := os.ReadFile(x.img)
	if err != nil {
		t.Fatal(err)
	}
	var inos []uint32
	for _, p := range []string{"", "f", "d", "d/g", "fast", "slow", "lost+found"} {
		inos = append(inos, x.ino(p))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	loaded := 0
	for iter := 0; iter < damagedIters; iter++ {
		ino := inos[rng.IntN(len(inos))]
		var picks []int
		for k := 0; k < 1+rng.IntN(3); k++ {
			picks = append(picks, rng.IntN(len(mutators)))
		}
		t.Run(fmt.Sprintf("%d-ino%d-%v", iter, ino, picks), func(t *testing.T) {
			dev := overlay.New(bytes.NewReader(base), int64(len(base)), overlay.Options{BlockSize: 1024})
			f, err := fs.Open(dev, fs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.ReadInode(ino)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range picks {
				mutators[m](rng, raw)
			}
			if err := f.WriteInode(ino, raw); err != nil {
				return
			}
			if exercise(f, ino) {
				loaded++
			}
		})
	}
	t.Logf("%d of %d damaged inodes loaded and exercised", loaded, damagedIters)
	if loaded < damagedIters/4 {
		t.Errorf("only %d damaged inodes got past Load; the test exercises too little", loaded)
	}
}

// exercise runs every read and edit on inode ino, ignoring errors, and
// reports whether Load accepted it.
func exercise(f *fs.FS, ino uint32) bool {
	in, err := file.Load(f, ino)
	if err != nil {
		return false
	}
	in.Node()
	in.Xattrs()
	switch in.Kind() {
	case tree.Regular:
		io.CopyN(io.Discard, in.NewReader(), 1<<20)
		in.WriteContent(bytes.NewReader(make([]byte, 3000)), 3000)
	case tree.Dir:
		if d, err := in.Dir(); err == nil {
			d.Entries()
		}
	case tree.Symlink:
		in.Target()
		in.SetTarget(strings.Repeat("t", 100))
	}
	in.SetXattrs([]tree.Xattr{{Name: "user.n", Value: bytes.Repeat([]byte("n"), 500)}})
	in.Save()
	in.Free()
	return true
}
