// Package basesource turns what a release engineer has as the previous
// release (the base) into an ext4 image file the generator can overlay: a
// raw ext4 image is used in place; a Mender artifact (a rootfs-image
// artifact, or a module-image artifact such as a previous lvm-um release)
// is read with mender-artifact's own reader, its signature checked when a
// key is given, and its single payload file streamed to a temporary file.
// Which one a file is comes from its content, never its name.
package basesource

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Options tune Resolve. The zero value reads unsigned and signed
// artifacts without verifying and puts payloads in os.TempDir().
type Options struct {
	// TempDir is where an artifact's payload is written; "" means
	// os.TempDir().
	TempDir string
	// VerifyKey, when not "", is the path of a PEM public key (RSA or
	// ECDSA, as mender-artifact -k takes). The base must then be an
	// artifact whose signature verifies with it.
	VerifyKey string
}

// Resolve returns the path of the base's ext4 image and a cleanup that
// removes whatever Resolve created (a no-op for a raw image; never nil
// when err is nil).
func Resolve(path string, opts Options) (imagePath string, cleanup func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("base: %w", err)
	}
	defer f.Close()
	head := make([]byte, headLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", nil, fmt.Errorf("base: %s: read: %w", path, err)
	}
	head = head[:n]
	switch {
	case IsExt4(head):
		if opts.VerifyKey != "" {
			return "", nil, fmt.Errorf("base: %s: %w: a raw ext4 image carries no signature", path, ErrSignature)
		}
		return path, func() {}, nil
	case isArtifact(head):
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return "", nil, fmt.Errorf("base: %s: %w", path, err)
		}
		img, err := extract(f, path, opts)
		if err != nil {
			return "", nil, err
		}
		return img, func() { os.Remove(img) }, nil
	}
	return "", nil, fmt.Errorf("base: %s: %w", path, ErrNotBase)
}

// ext4 superblock: 1024 bytes in, magic 0xEF53 at offset 0x38 in it.
const (
	sbOffset   = 1024
	sbMagicOff = 0x38
	ext4Magic  = 0xef53
	headLen    = 2048
)

// IsExt4 reports whether the first bytes of a file (at least 1082 of
// them) hold an ext2/3/4 superblock magic.
func IsExt4(head []byte) bool {
	off := sbOffset + sbMagicOff
	return len(head) >= off+2 && binary.LittleEndian.Uint16(head[off:]) == ext4Magic
}

// tar header fields that tell a Mender artifact: the first entry of the
// outer (never compressed) tar is named "version".
const (
	tarBlock    = 512
	tarNameLen  = 100
	tarChksum   = 148
	tarChksumSz = 8
	versionName = "version"
)

// isArtifact reports whether head starts with a tar header, with a valid
// checksum, for an entry named "version".
func isArtifact(head []byte) bool {
	if len(head) < tarBlock {
		return false
	}
	name := head[:tarNameLen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	if string(name) != versionName {
		return false
	}
	var want, sum int64
	field := head[tarChksum : tarChksum+tarChksumSz]
	digits := 0
	for _, c := range field {
		if c >= '0' && c <= '7' {
			want = want*8 + int64(c-'0')
			digits++
		} else if digits > 0 {
			break
		}
	}
	for i, c := range head[:tarBlock] {
		if i >= tarChksum && i < tarChksum+tarChksumSz {
			c = ' '
		}
		sum += int64(c)
	}
	return digits > 0 && want == sum
}
