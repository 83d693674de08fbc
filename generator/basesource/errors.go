package basesource

import "errors"

// ErrInvalid is matched (errors.Is) by every error that means the base
// file itself is unacceptable; each cause below is a distinct value too.
var ErrInvalid = errors.New("invalid base")

type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func newInvalid(msg string) error { return &invalidError{msg: msg} }

// The causes of ErrInvalid.
var (
	// ErrNotBase: neither an ext4 image nor a Mender artifact.
	ErrNotBase = newInvalid("not an ext4 image or a .mender artifact")
	// ErrCorrupt: the artifact does not read (format, checksum, truncation).
	ErrCorrupt = newInvalid("corrupt artifact")
	// ErrPayload: the artifact does not hold exactly one payload file.
	ErrPayload = newInvalid("artifact payload is not one image file")
	// ErrType: the artifact's payload type is not a rootfs image's
	// (rootfs-image or lvm-um).
	ErrType = newInvalid("artifact is not a rootfs image")
	// ErrNotExt4: the artifact's payload is not an ext4 image.
	ErrNotExt4 = newInvalid("artifact payload is not an ext4 image")
	// ErrSignature: a verify key was given and the base is unsigned or
	// its signature does not verify with it.
	ErrSignature = newInvalid("signature does not verify")
)
