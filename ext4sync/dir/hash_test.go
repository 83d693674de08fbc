package dir

import (
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

var reDxHash = regexp.MustCompile(`Hash of (\S+) is 0x([0-9a-f]+) \(minor 0x([0-9a-f]+)\)`)

var hashNames = map[uint8]string{
	HashLegacy: "legacy", HashHalfMD4: "half_md4", HashTea: "tea",
	HashLegacyUnsigned: "legacy_unsigned", HashHalfMD4Unsigned: "half_md4_unsigned", HashTeaUnsigned: "tea_unsigned",
}

// seedUUID formats a hash seed the way debugfs -s takes it (the raw bytes).
func seedUUID(s [4]uint32) string {
	var b [16]byte
	for i, w := range s {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// TestHashMatchesDebugfs checks every hash version, signed and unsigned,
// with and without a seed, on names of 1..255 bytes with high-bit bytes.
func TestHashMatchesDebugfs(t *testing.T) {
	t.Parallel()
	ext4test.RequireTools(t, e2fsprogs...)
	img := fixture(t, 1024)
	r := rand.New(rand.NewSource(7))
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.\xa0\xc3\xa9\xe2\xff\x80"
	var names []string
	for _, n := range []int{1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255} {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.Intn(len(alpha))]
		}
		names = append(names, string(b))
	}
	seeds := [][4]uint32{{}, {0xdeadbeef, 0x01234567, 0x89abcdef, 0x0badf00d}}
	type job struct {
		v    uint8
		seed [4]uint32
		name string
	}
	var jobs []job
	var cmds []string
	for v := HashLegacy; v <= HashTeaUnsigned; v++ {
		for _, s := range seeds {
			for _, n := range names {
				jobs = append(jobs, job{v, s, n})
				cmds = append(cmds, fmt.Sprintf("dx_hash -h %d -s %s %s", v, seedUUID(s), n)) // debugfs knows no "_unsigned" names
			}
		}
	}
	out := debugfs(t, img, false, cmds...)
	ms := reDxHash.FindAllStringSubmatch(out, -1)
	if len(ms) != len(jobs) {
		t.Fatalf("debugfs printed %d hashes for %d commands", len(ms), len(jobs))
	}
	for i, j := range jobs {
		if ms[i][1] != j.name && !strings.HasPrefix(j.name, ms[i][1]) {
			t.Fatalf("result %d is for %q, want %q", i, ms[i][1], j.name)
		}
		major, _ := strconv.ParseUint(ms[i][2], 16, 32)
		minor, _ := strconv.ParseUint(ms[i][3], 16, 32)
		h, err := NameHash(j.v, j.seed, []byte(j.name))
		if err != nil {
			t.Fatal(err)
		}
		if h.Major != uint32(major) || h.Minor != uint32(minor) {
			t.Errorf("%s seed %x len %d: %#x/%#x, debugfs %#x/%#x", hashNames[j.v], j.seed, len(j.name), h.Major, h.Minor, major, minor)
		}
	}
}

func TestHashRejectsUnknownVersion(t *testing.T) {
	t.Parallel()
	if _, err := NameHash(hashSiphash, [4]uint32{}, []byte("x")); err == nil {
		t.Fatal("siphash accepted")
	}
	if _, err := NameHash(200, [4]uint32{}, []byte("x")); err == nil {
		t.Fatal("version 200 accepted")
	}
}
