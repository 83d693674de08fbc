package dir

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// resealLeaf and resealDx recompute checksums after a deliberate
// corruption, so the structural checks behind them are what fails.
func resealLeaf(p Params, b []byte) {
	binary.LittleEndian.PutUint32(b[len(b)-tailSize+tailChecksum:], leafChecksum(p.Seed, b))
}

func resealDx(p Params, b []byte, countOff int) {
	limit := int(binary.LittleEndian.Uint16(b[countOff+dxLimit:]))
	count := int(binary.LittleEndian.Uint16(b[countOff+dxCount:]))
	if countOff+limit*dxEntrySize+dxTailSize > len(b) || count > limit {
		return
	}
	setDxChecksum(p.Seed, b, &dxBlock{countOff: countOff, limit: limit, entries: make([]dxEntry, count)})
}

var errLostAdd = errors.New("added name not found")

// exercise runs every read and write entry point; it reports the first error.
func exercise(f File, p Params) error {
	d, err := Open(f, p)
	if err != nil {
		return err
	}
	if _, err := d.Entries(); err != nil {
		return err
	}
	if _, _, err := d.Lookup("x"); err != nil {
		return err
	}
	if err := d.Add(Entry{Name: "fuzz-add", Inode: 12, Type: TypeRegular}); err != nil {
		return err
	}
	if _, ok, err := d.Lookup("fuzz-add"); err != nil {
		return err
	} else if !ok {
		return errLostAdd
	}
	if err := d.Remove("fuzz-add"); err != nil {
		return err
	}
	return d.SetParent(3)
}

func TestCorruption(t *testing.T) {
	t.Parallel()
	mem, p := bigMem(t, 1024)
	firstLeaf := binary.LittleEndian.Uint32(mem.blocks[0][rootCountOff+dxEntryBlock:])
	leafOff := func(b []byte, i int) int { // offset of the i'th entry
		off := 0
		for range i {
			off += int(binary.LittleEndian.Uint16(b[off+deRecLen:]))
		}
		return off
	}
	cases := []struct {
		name string
		lblk uint32
		mut  func(b []byte)
		want string
	}{
		{"rec_len not aligned", firstLeaf, func(b []byte) { b[deRecLen] |= 2 }, "multiple of 4"},
		{"rec_len zero", firstLeaf, func(b []byte) { binary.LittleEndian.PutUint16(b[leafOff(b, 1)+deRecLen:], 0) }, "smaller than minimal"},
		{"rec_len overrun", firstLeaf, func(b []byte) { binary.LittleEndian.PutUint16(b[leafOff(b, 1)+deRecLen:], 1020) }, "overruns"},
		{"name_len overflow", firstLeaf, func(b []byte) { b[deNameLen] = 250 }, "too small for name_len"},
		{"leaf checksum", firstLeaf, func(b []byte) { b[deName] ^= 1 }, "leaf checksum"},
		{"missing tail", firstLeaf, func(b []byte) { b[len(b)-tailSize+tailFT] = 0 }, "no space for directory leaf checksum"},
		{"root checksum", 0, func(b []byte) { b[rootCountOff+dxEntrySize] ^= 1 }, "checksum"},
		{"dx limit", 0, func(b []byte) { b[rootCountOff+dxLimit]-- }, "dx limit"},
		{"dx count zero", 0, func(b []byte) { binary.LittleEndian.PutUint16(b[rootCountOff+dxCount:], 0) }, "dx count"},
		{"dx count over limit", 0, func(b []byte) { binary.LittleEndian.PutUint16(b[rootCountOff+dxCount:], 200) }, "dx count"},
		{"hash version", 0, func(b []byte) { b[rootHashVersion] = 7 }, "hash version"},
		{"siphash", 0, func(b []byte) { b[rootHashVersion] = hashSiphash }, "hash version"},
		{"hash flags", 0, func(b []byte) { b[rootFlags] = 1 }, "hash flags"},
		{"info_length", 0, func(b []byte) { b[rootInfoLength] = 9 }, "info_length"},
		{"indirect levels", 0, func(b []byte) { b[rootIndirect] = 2 }, "indirect_levels"},
		{"dx block out of range", 0, func(b []byte) { binary.LittleEndian.PutUint32(b[rootCountOff+dxEntryBlock:], 1<<20) }, "points at block"},
		{"dx block is root", 0, func(b []byte) { binary.LittleEndian.PutUint32(b[rootCountOff+dxEntryBlock:], 0) }, "points at block"},
		{"dx hash order", 0, func(b []byte) { binary.LittleEndian.PutUint32(b[rootCountOff+2*dxEntrySize:], 0xfffffff0) }, "below previous"},
		{"bad dotdot", 0, func(b []byte) { b[rootDotDot+deNameLen] = 3 }, "\"..\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mem.clone()
			b := m.blocks[c.lblk]
			c.mut(b)
			if !strings.Contains(c.name, "checksum") && !strings.Contains(c.name, "tail") {
				if c.lblk == 0 {
					resealDx(p, b, rootCountOff)
				} else {
					resealLeaf(p, b)
				}
			}
			err := exercise(m, p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
	if err := exercise(mem.clone(), p); err != nil {
		t.Fatalf("intact directory: %v", err)
	}
}

const (
	fuzzBS        = 1024
	fuzzMaxBlocks = 128
	fuzzCsum      = 1 << 0
	fuzzIndexed   = 1 << 1
	fuzzFileType  = 1 << 2
	fuzzUnsigned  = 1 << 3
	fuzzLargeDir  = 1 << 4
)

func concat(blocks [][]byte) []byte {
	var out []byte
	for i, b := range blocks {
		if i == fuzzMaxBlocks {
			break
		}
		out = append(out, b...)
	}
	return out
}

// FuzzDir feeds arbitrary directory blocks to every operation; they must
// return errors, never panic or loop.
func FuzzDir(f *testing.F) {
	init := &memFile{bs: fuzzBS}
	if err := Init(init, Params{BlockSize: fuzzBS, FileType: true}, 11, rootIno); err != nil {
		f.Fatal(err)
	}
	f.Add(concat(init.blocks), uint8(fuzzFileType), uint32(0))
	csumInit := &memFile{bs: fuzzBS}
	if err := Init(csumInit, Params{BlockSize: fuzzBS, FileType: true, Csum: true, Seed: 1}, 11, rootIno); err != nil {
		f.Fatal(err)
	}
	f.Add(concat(csumInit.blocks), uint8(fuzzFileType|fuzzCsum), uint32(1))
	if ext4test.HaveTools(f, e2fsprogs...) {
		img := fixture(f, fuzzBS)
		for _, path := range []string{"/bigdir", "/small"} {
			o := openOnImage(f, img, path)
			m := o.loadMem(f)
			flags := uint8(fuzzCsum | fuzzFileType)
			if o.params.Indexed {
				flags |= fuzzIndexed
			}
			f.Add(concat(m.blocks), flags, o.params.Seed)
			f.Add(concat(m.blocks), flags&^fuzzCsum, o.params.Seed)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, flags uint8, seed uint32) {
		m := &memFile{bs: fuzzBS, max: fuzzMaxBlocks + 4}
		for off := 0; off < len(data) && len(m.blocks) < fuzzMaxBlocks; off += fuzzBS {
			b := make([]byte, fuzzBS)
			copy(b, data[off:])
			m.blocks = append(m.blocks, b)
		}
		if len(m.blocks) == 0 {
			return
		}
		p := Params{
			BlockSize: fuzzBS, Seed: seed,
			Csum: flags&fuzzCsum != 0, Indexed: flags&fuzzIndexed != 0, FileType: flags&fuzzFileType != 0,
			Unsigned: flags&fuzzUnsigned != 0, LargeDir: flags&fuzzLargeDir != 0,
		}
		if err := exercise(m, p); errors.Is(err, errLostAdd) {
			t.Fatal(err)
		}
	})
}
