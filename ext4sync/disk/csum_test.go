package disk

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"
)

// TestSuperblockChecksumMatchesMkfs checks the crc32c convention against a
// superblock written by the real mkfs.ext4: s_checksum (0x3FC) must equal
// crc32c(~0, bytes 0..0x3FB).
func TestSuperblockChecksumMatchesMkfs(t *testing.T) {
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	img := filepath.Join(t.TempDir(), "sb.img")
	out, err := exec.Command(mkfs, "-q", "-F", "-b", "1024", "-O", "metadata_csum", img, "4M").CombinedOutput()
	if err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	sb := raw[1024 : 1024+1024]
	want := binary.LittleEndian.Uint32(sb[0x3FC:])
	if got := Crc32c(^uint32(0), sb[:0x3FC]); got != want {
		t.Fatalf("superblock checksum: got %#x, mkfs wrote %#x", got, want)
	}
}
