package xattr

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/disk"
)

const (
	testBlk  = 4242
	testSeed = 0xC0FFEE
	testIno  = 99
)

// validBlock is a 1 KiB block holding two user attributes, checksummed.
func validBlock(t testing.TB) []byte {
	_, block, err := Encode(byteXattrs{{"user.aaaa", fill(300, 1)}, {"user.b", fill(10, 2)}}.attrs(), 0, 1024, "f")
	if err != nil {
		t.Fatal(err)
	}
	SetBlockChecksum(block, testBlk, testSeed)
	return block
}

func validInode(t testing.TB) []byte {
	body, _, err := Encode(byteXattrs{{"user.a", []byte("hello")}, {"trusted.t", []byte("x")}}.attrs(), testSpace, 1024, "f")
	if err != nil {
		t.Fatal(err)
	}
	return rawInode(body)
}

func TestDecodeBlockCorrupt(t *testing.T) {
	first := headerSize // the first entry
	cases := []struct {
		name   string
		mutate func(b []byte)
		want   error
		text   string
	}{
		{"magic", func(b []byte) { b[hdrMagic] ^= 1 }, ErrCorrupt, "magic"},
		{"h_blocks", func(b []byte) { binary.LittleEndian.PutUint32(b[hdrBlocks:], 2) }, ErrCorrupt, "h_blocks"},
		{"checksum", func(b []byte) { b[1000] ^= 1 }, ErrCorrupt, "checksum"},
		{"value past end", func(b []byte) { binary.LittleEndian.PutUint32(b[first+entValueSize:], 5000) }, ErrCorrupt, "outside"},
		{"value over table", func(b []byte) { binary.LittleEndian.PutUint16(b[first+entValueOffs:], 40) }, ErrCorrupt, "outside"},
		{"ea_inode", func(b []byte) { binary.LittleEndian.PutUint32(b[first+entValueInum:], 12) }, ErrEAInode, "inode 12"},
		{"e_hash", func(b []byte) { b[first+entHash] ^= 1 }, ErrCorrupt, "e_hash"},
		{"h_hash", func(b []byte) { binary.LittleEndian.PutUint32(b[hdrHash:], 7) }, ErrCorrupt, "h_hash"},
		{"unknown index", func(b []byte) { b[first+entNameIndex] = 5 }, ErrCorrupt, "index 5"},
		{"name past end", func(b []byte) { b[first+entNameLen] = 255 }, ErrCorrupt, ""},
		{"no terminator", func(b []byte) {
			for i := headerSize; i < len(b); i++ {
				b[i] = 0x41
			}
		}, ErrCorrupt, ""},
		{"overlap", func(b []byte) {
			second := first + entryLen(4)
			off := binary.LittleEndian.Uint16(b[first+entValueOffs:])
			binary.LittleEndian.PutUint16(b[second+entValueOffs:], off)
		}, ErrCorrupt, ""},
		{"duplicate", func(b []byte) {
			second := first + entryLen(1) // "b" sorts before "aaaa"
			b[second+entNameLen] = 1
			copy(b[second+entName:], "b")
		}, ErrCorrupt, ""},
	}
	for _, c := range cases {
		b := validBlock(t)
		c.mutate(b)
		if c.name != "checksum" {
			SetBlockChecksum(b, testBlk, testSeed)
		}
		_, _, err := DecodeBlock(b, testBlk, BlockOptions{Checksum: true, FSSeed: testSeed})
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), "block 4242") || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: err %v, want %v naming block 4242 and %q", c.name, err, c.want, c.text)
		}
	}
	if _, _, err := DecodeBlock(make([]byte, 10), 3, BlockOptions{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short block: %v", err)
	}
	// Without metadata_csum the checksum field is not looked at.
	b := validBlock(t)
	b[hdrChecksum] ^= 1
	if _, _, err := DecodeBlock(b, testBlk, BlockOptions{}); err != nil {
		t.Errorf("no csum: %v", err)
	}
}

func TestDecodeInodeCorrupt(t *testing.T) {
	region := disk.GoodOldInodeSize + testExtra + magicSize // the first entry
	cases := []struct {
		name   string
		mutate func(b []byte)
		want   error
	}{
		{"extra_isize odd", func(b []byte) { binary.LittleEndian.PutUint16(b[inodeExtraOff:], 30) }, ErrCorrupt},
		{"extra_isize huge", func(b []byte) { binary.LittleEndian.PutUint16(b[inodeExtraOff:], 400) }, ErrCorrupt},
		{"value past end", func(b []byte) { binary.LittleEndian.PutUint32(b[region+entValueSize:], 500) }, ErrCorrupt},
		{"bad hash", func(b []byte) { binary.LittleEndian.PutUint32(b[region+entHash:], 1) }, ErrCorrupt},
		{"ea_inode", func(b []byte) { binary.LittleEndian.PutUint32(b[region+entValueInum:], 12) }, ErrEAInode},
		{"empty name", func(b []byte) { b[region+entNameLen] = 0 }, ErrCorrupt},
	}
	for _, c := range cases {
		b := validInode(t)
		c.mutate(b)
		_, err := DecodeInode(b, testIno)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), "inode 99") {
			t.Errorf("%s: err %v, want %v naming inode 99", c.name, err, c.want)
		}
	}
	// An ACL whose stored value is not ext4's encoding.
	acl := vfsACL([3]uint32{aclUserObj, 6, ACLUndefinedID})
	body, _, err := Encode(byteXattrs{{NameACLAccess, acl}}.attrs(), testSpace, 1024, "f")
	if err != nil {
		t.Fatal(err)
	}
	raw := rawInode(body)
	e := readEntry(raw[region:])
	raw[region+e.valueOffs] = 9 // the disk ACL's version
	if _, err := DecodeInode(raw, testIno); !errors.Is(err, ErrACL) || !strings.Contains(err.Error(), "inode 99") {
		t.Errorf("bad ACL: %v", err)
	}
	// No magic, 128-byte inodes, and a region too small: no xattrs.
	for name, raw := range map[string][]byte{
		"no magic": rawInode(nil),
		"128":      make([]byte, disk.GoodOldInodeSize),
		"full":     func() []byte { b := rawInode(nil); binary.LittleEndian.PutUint16(b[inodeExtraOff:], 128); return b }(),
	} {
		if x, err := DecodeInode(raw, testIno); err != nil || len(x) != 0 {
			t.Errorf("%s: %v %v", name, x, err)
		}
	}
	// A correct in-inode hash is accepted as well as 0.
	b := validInode(t)
	e = readEntry(b[region:])
	v := b[region+e.valueOffs:][:roundUp(int(e.valueSize))]
	binary.LittleEndian.PutUint32(b[region+entHash:], entryHash("a", v, false))
	if _, err := DecodeInode(b, testIno); err != nil {
		t.Errorf("hashed in-inode entry: %v", err)
	}
}
