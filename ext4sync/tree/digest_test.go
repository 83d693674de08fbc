package tree

import (
	"bytes"
	"math/rand"
	"testing"
)

// Digests taken from a stream agree with BlockDigest of the blocks that
// hold the same bytes, at every block size, short last blocks included.
func TestDigestsAgreeWithBlocks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int64{0, 1, 1023, 1024, 1025, 4095, 4096, 4097, 70000} {
		content := make([]byte, size)
		for i := range content {
			if rng.Intn(3) == 0 { // mostly zeros, so some units are holes
				content[i] = byte(rng.Intn(256))
			}
		}
		// A zero unit in the middle.
		if size > 3*DigestUnit {
			clear(content[DigestUnit : 2*DigestUnit])
		}
		d, err := DigestReader(bytes.NewReader(content), size)
		if err != nil {
			t.Fatal(err)
		}
		if want := (size + DigestUnit - 1) / DigestUnit; int64(len(d)) != want {
			t.Fatalf("size %d: %d digests, want %d", size, len(d), want)
		}
		for _, bs := range []int{1024, 2048, 4096, 65536} {
			got := d.Blocks(bs)
			for k := range got {
				blk := make([]byte, bs)
				copy(blk, content[min(int64(k*bs), size):min(int64((k+1)*bs), size)])
				if want := BlockDigest(blk); got[k] != want {
					t.Fatalf("size %d bs %d block %d: digest %x, BlockDigest %x", size, bs, k, got[k], want)
				}
				if (got[k] == 0) != allZero(blk) {
					t.Fatalf("size %d bs %d block %d: digest %x but zero=%v", size, bs, k, got[k], allZero(blk))
				}
			}
		}
	}
}

func TestDigestsDistinguish(t *testing.T) {
	a, b := make([]byte, 4096), make([]byte, 4096)
	a[100], b[101] = 1, 1
	if BlockDigest(a) == BlockDigest(b) || BlockDigest(a) == 0 {
		t.Fatal("different blocks got the same digest")
	}
	if DigestUnitOf([]byte{0, 0, 0}) != 0 {
		t.Fatal("zero bytes must digest to 0")
	}
}

func TestDigestReaderShort(t *testing.T) {
	if _, err := DigestReader(bytes.NewReader(make([]byte, 10)), 20); err == nil {
		t.Fatal("short content accepted")
	}
}
