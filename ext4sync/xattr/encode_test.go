package xattr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

// Sizes of a default 256-byte inode with i_extra_isize 32.
const (
	testInodeSize = 256
	testExtra     = 32
	testSpace     = testInodeSize - disk.GoodOldInodeSize - testExtra
)

func rawInode(region []byte) []byte {
	raw := make([]byte, testInodeSize)
	binary.LittleEndian.PutUint16(raw[inodeExtraOff:], testExtra)
	copy(raw[disk.GoodOldInodeSize+testExtra:], region)
	return raw
}

func TestEncodeRoundTrip(t *testing.T) {
	attrs := byteXattrs{
		{"security.selinux", []byte("system_u:object_r:etc_t:s0\x00")},
		{"trusted.overlay.opaque", []byte("y")},
		{"user.a", fill(30, 1)},
		{"user.bb", fill(300, 2)},
		{"user.c", []byte{}},
		{"user.zz", fill(90, 3)},
	}.attrs()
	for _, bs := range []int{1024, 4096} {
		body, block, err := Encode(attrs, testSpace, bs, "f")
		if err != nil {
			t.Fatal(err)
		}
		if len(body) != testSpace || block == nil || len(block) != bs {
			t.Fatalf("bs %d: body %d bytes, block %d bytes", bs, len(body), len(block))
		}
		SetBlockChecksum(block, 77, 0x1234)
		in, err := DecodeInode(rawInode(body), 12)
		if err != nil {
			t.Fatal(err)
		}
		bl, hdr, err := DecodeBlock(block, 77, BlockOptions{Checksum: true, FSSeed: 0x1234})
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Refcount != 1 {
			t.Errorf("refcount %d", hdr.Refcount)
		}
		all, err := Merge(in, bl, 12)
		if err != nil {
			t.Fatal(err)
		}
		if !Equal(all, attrs) {
			t.Fatalf("bs %d: round trip %v, want %v", bs, names(all), names(attrs))
		}
		// Deterministic: the same input gives the same bytes.
		body2, block2, _ := Encode(attrs, testSpace, bs, "f")
		SetBlockChecksum(block2, 77, 0x1234)
		if !bytes.Equal(body, body2) || !bytes.Equal(block, block2) {
			t.Fatal("Encode is not deterministic")
		}
	}
}

func TestEncodePlacement(t *testing.T) {
	// Nothing: no magic, no block.
	body, block, err := Encode(nil, testSpace, 1024, "f")
	if err != nil || block != nil || !bytes.Equal(body, make([]byte, testSpace)) {
		t.Fatalf("empty set: body %x block %v err %v", body, block, err)
	}
	// Everything in the block still leaves the magic, as e2fsprogs does.
	body, block, err = Encode(byteXattrs{{"user.big", fill(200, 1)}}.attrs(), testSpace, 1024, "f")
	if err != nil || block == nil || binary.LittleEndian.Uint32(body) != Magic || !isLastEntry(body[magicSize:]) {
		t.Fatalf("block-only set: body %x block %v err %v", body[:8], block != nil, err)
	}
	// The inode body keeps the given order; the block is sorted by
	// (index, name length, name).
	attrs := byteXattrs{
		{"user.zz", []byte("1")}, {"user.a", []byte("2")},
		{"user.big1", fill(100, 1)}, {"trusted.b", fill(100, 2)}, {"user.b", fill(100, 3)},
	}.attrs()
	body, block, err = Encode(attrs, testSpace, 1024, "f")
	if err != nil {
		t.Fatal(err)
	}
	if got := tableNames(body[magicSize:], 0); strings.Join(got, ",") != "1:zz,1:a" {
		t.Errorf("inode order %v, want 1:zz,1:a", got)
	}
	if got := tableNames(block, headerSize); strings.Join(got, ",") != "1:b,1:big1,4:b" {
		t.Errorf("block order %v, want 1:b,1:big1,4:b", got)
	}
	// No inode body at all (128-byte inodes): everything goes to the block.
	body, block, err = Encode(attrs, 0, 1024, "f")
	if err != nil || body != nil || block == nil {
		t.Fatalf("no body: %v %v %v", body, block != nil, err)
	}
}

func tableNames(region []byte, start int) []string {
	var n []string
	for off := start; !isLastEntry(region[off:]); {
		e := readEntry(region[off:])
		n = append(n, fmt.Sprintf("%d:%s", e.index, region[off+entName:off+entName+e.nameLen]))
		off += entryLen(e.nameLen)
	}
	return n
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name  string
		attrs []Attr
		want  error
	}{
		{"1500 bytes on 1 KiB blocks", byteXattrs{{"user.big", fill(1500, 1)}}.attrs(), ErrNoSpace},
		{"inline data too big", byteXattrs{{NameInlineData, fill(200, 1)}}.attrs(), ErrNoSpace},
		{"duplicate", byteXattrs{{"user.a", nil}, {"user.a", nil}}.attrs(), ErrName},
		{"empty suffix", byteXattrs{{"user.", []byte("x")}}.attrs(), ErrName},
		{"NUL in name", byteXattrs{{"user.a\x00b", []byte("x")}}.attrs(), ErrName},
		{"long name", byteXattrs{{"user." + strings.Repeat("n", 256), nil}}.attrs(), ErrName},
		{"bad ACL", byteXattrs{{NameACLAccess, []byte{2, 0, 0, 0, 9}}}.attrs(), ErrACL},
	}
	for _, c := range cases {
		_, _, err := Encode(c.attrs, testSpace, 1024, "/etc/thing")
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
			continue
		}
		if !strings.Contains(err.Error(), "/etc/thing") {
			t.Errorf("%s: error %q does not name the file", c.name, err)
		}
	}
	// Many attributes, each fitting, that together overflow.
	var many byteXattrs
	for i := 0; i < 20; i++ {
		many = append(many, byteXattr{"user.k" + string(rune('a'+i)), fill(60, byte(i))})
	}
	if _, _, err := Encode(many.attrs(), testSpace, 1024, "f"); !errors.Is(err, ErrNoSpace) {
		t.Errorf("overflowing set: err %v", err)
	}
}

func TestEqualAndMerge(t *testing.T) {
	a := byteXattrs{{"user.a", []byte("1")}, {"user.b", []byte("2")}}.attrs()
	b := byteXattrs{{"user.b", []byte("2")}, {"user.a", []byte("1")}}.attrs()
	if !Equal(a, b) || !Equal(nil, []Attr{}) {
		t.Error("Equal: same sets unequal")
	}
	if Equal(a, a[:1]) || Equal(a, byteXattrs{{"user.a", []byte("1")}, {"user.b", []byte("3")}}.attrs()) {
		t.Error("Equal: different sets equal")
	}
	if Equal(byteXattrs{{"user.a", nil}, {"user.a", nil}}.attrs(), a) {
		t.Error("Equal: duplicate names equal a proper set")
	}
	if _, err := Merge(a, a[:1], 5); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "inode 5") {
		t.Errorf("Merge duplicate: %v", err)
	}
}

func TestHashVariants(t *testing.T) {
	// A name byte >= 0x80 makes the signed-char hash (e2fsprogs on x86,
	// kernels before 6.2) differ from the unsigned one; Encode writes the
	// signed one, and the decoder accepts both.
	attrs := byteXattrs{{"user.caf\xc3\xa9", fill(200, 1)}}.attrs()
	_, block, err := Encode(attrs, 0, 1024, "f")
	if err != nil {
		t.Fatal(err)
	}
	e := readEntry(block[headerSize:])
	v := block[e.valueOffs : e.valueOffs+roundUp(int(e.valueSize))]
	signed, unsigned := entryHash("caf\xc3\xa9", v, true), entryHash("caf\xc3\xa9", v, false)
	if signed == unsigned || e.hash != signed {
		t.Fatalf("e_hash %#x, signed %#x, unsigned %#x", e.hash, signed, unsigned)
	}
	for _, h := range []uint32{signed, unsigned} {
		binary.LittleEndian.PutUint32(block[headerSize+entHash:], h)
		if _, _, err := DecodeBlock(block, 1, BlockOptions{}); err != nil {
			t.Errorf("hash %#x rejected: %v", h, err)
		}
	}
}
