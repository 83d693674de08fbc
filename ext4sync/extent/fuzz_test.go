package extent

import (
	"encoding/binary"
	"flag"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// fuzzBlockSize is the block size of fuzzed stores.
const fuzzBlockSize = 1024

// fuzzRecord is one stored block in fuzz input: its number, then its bytes.
const fuzzRecord = 8 + fuzzBlockSize

// fuzzStore decodes fuzz input: a 60-byte root, then records of
// (block number, block bytes). Missing blocks read as zeros.
func fuzzStore(data []byte) ([]byte, *memStore) {
	s := newMemStore(fuzzBlockSize)
	root := make([]byte, RootSize)
	copy(root, data)
	if len(data) > RootSize {
		rest := data[RootSize:]
		for len(rest) >= fuzzRecord {
			blk := binary.LittleEndian.Uint64(rest)
			s.blocks[blk] = append([]byte(nil), rest[8:fuzzRecord]...)
			rest = rest[fuzzRecord:]
		}
	}
	return root, s
}

func fuzzEncode(root []byte, s Reader, nodes []uint64) []byte {
	out := append([]byte(nil), root...)
	for _, b := range nodes {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], b)
		data, _ := s.ReadBlock(b)
		out = append(append(out, n[:]...), data...)
	}
	return out
}

// FuzzRead feeds Read arbitrary trees: it must return a tree or an error,
// never panic, and what it returns must be self-consistent and rebuildable.
func FuzzRead(f *testing.F) {
	opt := testOpt()
	s, a := newMemStore(fuzzBlockSize), newMemAlloc(1<<20)
	for _, n := range []int{0, 3, 90, 400} {
		tr, _, err := Build(sparseMaps(n), nil, s, a, opt)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fuzzEncode(tr.Root[:], s, tr.Nodes), opt.Seed, true, uint64(testBlocks))
	}
	// Real libext2fs trees, when e2fsprogs is here.
	if img := realSeedImage(f); img != nil {
		for _, path := range []string{"/small", "/mid", "/big"} {
			_, raw, o := img.inode(f, path)
			if tr, err := Read(rootOf(raw), img, o); err == nil {
				f.Add(fuzzEncode(rootOf(raw), img, tr.Nodes), o.Seed, true, o.BlocksCount)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint32, csum bool, blocks uint64) {
		root, s := fuzzStore(data)
		o := Options{Ino: 7, Csum: csum, Seed: seed, FirstDataBlock: 1, BlocksCount: blocks}
		tr, err := Read(root, s, o)
		if err != nil {
			return
		}
		// A tree Read accepts must rebuild and read back the same.
		back, _, err := Build(tr.Mappings, tr, s, newMemAlloc(1<<20), o)
		if err != nil {
			t.Fatalf("Build of a tree Read accepted: %v", err)
		}
		again, err := Read(back.Root[:], s, o)
		if err != nil || len(again.Mappings) != len(tr.Mappings) {
			t.Fatalf("rebuilt tree does not read back: %v", err)
		}
	})
}

// realSeedImage opens the 1 KiB fixture when the tools are installed. Fuzz
// workers skip it: the coordinator already seeded the corpus, and building
// the fixture in every worker would stall fuzzing.
func realSeedImage(f *testing.F) (im *image) {
	if w := flag.Lookup("test.fuzzworker"); w != nil && w.Value.String() == "true" {
		return nil
	}
	if !ext4test.HaveTools(f, "mkfs.ext4", "debugfs", "e2fsck", "fsck.ext4") {
		return nil
	}
	return openImage(f, fixture(f, spec1k))
}
