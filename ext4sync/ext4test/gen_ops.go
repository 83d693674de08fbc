package ext4test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Generated timestamps lie in [genTimeMin, genTimeMax): 2001..2017, far
// from "now", so Mutate can tell which paths the OS just touched.
const (
	genTimeMin   = 1_000_000_000
	genTimeMax   = 1_500_000_000
	touchedAfter = 1_600_000_000
	nsPerSec     = 1_000_000_000
	// maxUID is the largest valid id: (uid_t)-1 means "no change".
	maxUID = 1<<32 - 2
	// capV2Size is a VFS_CAP_REVISION_2 security.capability value.
	capV2Size     = 20
	capRevision2  = 0x02000000
	capFlagsEff   = 0x000001
	fastLinkLimit = 60
	maxLinkTarget = 4000
)

// randName returns a file name of 1..n characters from a safe alphabet.
func randName(rng *rand.Rand, n int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	l := 1 + rng.IntN(n)
	b := make([]byte, l)
	for i := range b {
		b[i] = alpha[rng.IntN(len(alpha))]
	}
	s := string(b)
	if s == "." || s == ".." || s == LostFound {
		return "x" + s
	}
	return s
}

// randBytes returns n pseudo-random bytes from rng.
func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n+8)
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b[:n]
}

// randContent is file content: random, text-like, or with zero runs.
func randContent(rng *rand.Rand, n int) []byte {
	switch rng.IntN(3) {
	case 0:
		return randBytes(rng, n)
	case 1:
		b := make([]byte, n)
		line := []byte(fmt.Sprintf("line %d of generated text\n", rng.IntN(1000)))
		for i := range b {
			b[i] = line[i%len(line)]
		}
		return b
	}
	b := randBytes(rng, n)
	if n > 0 {
		z := rng.IntN(n)
		clear(b[z : z+rng.IntN(n-z+1)])
	}
	return b
}

// randSize picks a file size: many small, some medium, a few large.
func randSize(rng *rand.Rand, max int) int {
	switch r := rng.IntN(10); {
	case r == 0:
		return 0
	case r < 5:
		return rng.IntN(min(max, 512) + 1)
	case r < 9:
		return rng.IntN(min(max, 16<<10) + 1)
	}
	return rng.IntN(max + 1)
}

// randTime is a timestamp with nanoseconds in the generated range.
func randTime(rng *rand.Rand) unix.Timespec {
	return unix.Timespec{Sec: genTimeMin + rng.Int64N(genTimeMax-genTimeMin), Nsec: rng.Int64N(nsPerSec)}
}

// setTimes sets atime and mtime without following symlinks.
func setTimes(rng *rand.Rand, p string) error {
	ts := []unix.Timespec{randTime(rng), randTime(rng)}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("ext4test: utimensat %s: %w", p, err)
	}
	return nil
}

// randID picks a uid or gid: mostly small, sometimes up to 2^32-2.
func randID(rng *rand.Rand) uint32 {
	switch rng.IntN(6) {
	case 0, 1:
		return 0
	case 2:
		return uint32(1000 + rng.IntN(10))
	case 3:
		return 65534
	case 4:
		return uint32(rng.Int64N(maxUID + 1))
	}
	return uint32(rng.IntN(65536))
}

// randPerm picks permission bits, sometimes with setuid/setgid/sticky.
func randPerm(rng *rand.Rand, dir bool) uint32 {
	perm := []uint32{0o644, 0o755, 0o600, 0o444, 0o700, 0o640, 0o777, 0o555}[rng.IntN(8)]
	if dir {
		perm |= 0o700 // the generator must still be able to enter it as root: harmless
	}
	switch rng.IntN(8) {
	case 0:
		perm |= 0o4000
	case 1:
		perm |= 0o2000
	case 2:
		perm |= 0o1000
	case 3:
		perm |= 0o7000
	}
	return perm
}

// chmodPath sets permission bits incl. setuid/setgid/sticky.
func chmodPath(p string, perm uint32) error {
	if err := unix.Fchmodat(unix.AT_FDCWD, p, perm, 0); err != nil {
		return fmt.Errorf("ext4test: chmod %s: %w", p, err)
	}
	return nil
}

// randTarget is a symlink target: short (fast symlink) or long, up to
// max bytes (0: 4000). ext4 and e2fsprogs keep a target in one block, so
// max must stay below the image's block size.
func randTarget(rng *rand.Rand, max int) string {
	if max <= 0 {
		max = maxLinkTarget
	}
	n := 1 + rng.IntN(fastLinkLimit-1)
	if rng.IntN(3) == 0 && max > fastLinkLimit {
		n = fastLinkLimit + rng.IntN(max-fastLinkLimit+1)
	}
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('/')
		}
		if rng.IntN(4) == 0 {
			b.WriteString("..")
		} else {
			b.WriteString(randName(rng, 12))
		}
	}
	return b.String()[:n]
}

// randXattr returns a name and value: user.*, trusted.*,
// security.capability, security.selinux, with sizes from 0 to ~2 KiB.
func randXattr(rng *rand.Rand) (string, []byte) {
	switch rng.IntN(5) {
	case 0:
		return "trusted." + randName(rng, 10), randBytes(rng, rng.IntN(64))
	case 1:
		v := make([]byte, capV2Size)
		binary.LittleEndian.PutUint32(v, capRevision2|capFlagsEff)
		binary.LittleEndian.PutUint32(v[4:], rng.Uint32())
		return "security.capability", v
	case 2:
		ctx := []string{"system_u:object_r:bin_t:s0", "system_u:object_r:etc_t:s0",
			"system_u:object_r:lib_t:s0"}[rng.IntN(3)]
		return "security.selinux", append([]byte(ctx), 0)
	case 3:
		return "user." + randName(rng, 20), randBytes(rng, rng.IntN(maxXattrGen))
	}
	return "user." + randName(rng, 20), []byte(randName(rng, 40))
}

// randACL builds a valid POSIX ACL in the VFS encoding: the three base
// entries, optional named users/groups sorted by id, and a mask when
// there are named entries.
func randACL(rng *rand.Rand) []byte {
	type ent struct {
		tag  uint16
		perm uint16
		id   uint32
	}
	perm := func() uint16 { return uint16(rng.IntN(8)) }
	ents := []ent{{aclUserObj, perm(), aclUndefinedID}}
	nu, ng := rng.IntN(3), rng.IntN(3)
	base := uint32(rng.IntN(5000))
	for i := 0; i < nu; i++ {
		ents = append(ents, ent{aclUser, perm(), base + uint32(i)*7 + 1})
	}
	ents = append(ents, ent{aclGroupObj, perm(), aclUndefinedID})
	for i := 0; i < ng; i++ {
		ents = append(ents, ent{aclGroup, perm(), base + uint32(i)*5 + 2})
	}
	if nu+ng > 0 {
		ents = append(ents, ent{aclMask, perm(), aclUndefinedID})
	}
	ents = append(ents, ent{aclOther, perm(), aclUndefinedID})
	b := make([]byte, aclHeaderSize+aclEntrySize*len(ents))
	binary.LittleEndian.PutUint32(b, aclVersion)
	for i, e := range ents {
		o := aclHeaderSize + i*aclEntrySize
		binary.LittleEndian.PutUint16(b[o:], e.tag)
		binary.LittleEndian.PutUint16(b[o+2:], e.perm)
		binary.LittleEndian.PutUint32(b[o+4:], e.id)
	}
	return b
}

// Generated xattrs stay small enough that all of one inode's fit in the
// inode plus one 1 KiB block (mkfs -d stores them there).
const (
	maxXattrGen    = 300
	xattrBudget    = 700
	xattrEntryCost = 20 // entry header and padding, roughly
)

// setXattr sets one xattr without following symlinks, unless the inode's
// xattrs would then outgrow xattrBudget (then it does nothing).
func setXattr(p, name string, v []byte) error {
	cur, err := readXattrs(p)
	if err != nil {
		return err
	}
	total := len(name) + len(v) + xattrEntryCost
	for n, x := range cur {
		if n != name {
			total += len(n) + len(x) + xattrEntryCost
		}
	}
	if total > xattrBudget {
		return nil
	}
	if err := unix.Lsetxattr(p, name, v, 0); err != nil {
		return fmt.Errorf("ext4test: setxattr %s %s: %w", p, name, err)
	}
	return nil
}

// writeSparse writes a file of size bytes with holes: data only in some
// blockAlign-sized, block-aligned pieces (never at the start or end when
// the pattern says so).
func writeSparse(rng *rand.Rand, p string, size int64) error {
	const blockAlign = 4096
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("ext4test: sparse %s: %w", p, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("ext4test: sparse %s: %w", p, err)
	}
	blocks := size / blockAlign
	pattern := rng.IntN(3) // 0: hole at start, 1: hole in middle, 2: hole at end
	for b := int64(0); b < blocks; b++ {
		var data bool
		switch pattern {
		case 0:
			data = b >= blocks/2
		case 1:
			data = b < blocks/4 || b >= 3*blocks/4
		default:
			data = b < blocks/3
		}
		if data && rng.IntN(4) != 0 {
			if _, err := f.WriteAt(randBytes(rng, blockAlign), b*blockAlign); err != nil {
				return fmt.Errorf("ext4test: sparse %s: %w", p, err)
			}
		}
	}
	return nil
}

// mknod makes a device, FIFO or socket node.
func mknod(p string, mode uint32, major, minor uint32) error {
	if err := unix.Mknod(p, mode, int(unix.Mkdev(major, minor))); err != nil {
		return fmt.Errorf("ext4test: mknod %s: %w", p, err)
	}
	return nil
}

// bindSocket makes a unix socket file at p by binding a socket to it
// (relative to its directory, so long paths fit in sun_path); it falls
// back to mknod(S_IFSOCK), which makes the same kind of inode.
func bindSocket(p string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		defer unix.Close(fd)
		if len(p) < len(unix.RawSockaddrUnix{}.Path) {
			if err = unix.Bind(fd, &unix.SockaddrUnix{Name: p}); err == nil {
				return nil
			}
		}
	}
	return mknod(p, unix.S_IFSOCK|0o755, 0, 0)
}

// relPath is p relative to root, slash-separated.
func relPath(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}
