package disk

// ext4 timestamps: a signed 32-bit seconds field, extended by an *_extra
// field whose low 2 bits add epochs of 2^32 seconds and whose upper 30
// bits are nanoseconds.
const (
	timeEpochBits = 2
	timeEpochMask = 1<<timeEpochBits - 1
	nsecMax       = 999999999
)

// DecodeTime returns seconds since the Unix epoch and nanoseconds from a
// timestamp's base field and its extra field.
func DecodeTime(base, extra uint32) (sec int64, nsec uint32) {
	sec = int64(int32(base)) + int64(extra&timeEpochMask)<<32
	nsec = extra >> timeEpochBits
	if nsec > nsecMax {
		nsec = 0
	}
	return sec, nsec
}

// EncodeTime is the inverse of DecodeTime for seconds in the range ext4
// can hold (1901 to 2446); values outside it are clamped.
func EncodeTime(sec int64, nsec uint32) (base, extra uint32) {
	const minSec, maxSec = -1 << 31, 1<<31 - 1 + timeEpochMask<<32
	if sec < minSec {
		sec, nsec = minSec, 0
	}
	if sec > maxSec {
		sec, nsec = maxSec, nsecMax
	}
	if nsec > nsecMax {
		nsec = nsecMax
	}
	epoch := uint32((sec-int64(int32(sec)))>>32) & timeEpochMask
	return uint32(int32(sec)), epoch | nsec<<timeEpochBits
}

// The range of inode timestamps, as the kernel sets s_time_min and
// s_time_max for ext4: the base field alone holds a signed 32-bit second
// (1901-12-13 to 2038-01-19); with the extra field, its two epoch bits
// carry seconds up to 2446-05-10.
const (
	TimeMin        = -1 << 31
	TimeMaxNoExtra = 1<<31 - 1
	TimeMaxExtra   = 1<<31 - 1 + timeEpochMask<<32
)

// TruncateTime is the timestamp an inode ends up with when the kernel
// stores (sec, nsec) in it (timestamp_truncate): seconds clamped to the
// range the inode's fields hold, nanoseconds zero at either limit and
// always zero without the extra field (whose upper bits hold them).
func TruncateTime(sec int64, nsec uint32, extra bool) (int64, uint32) {
	hi := int64(TimeMaxNoExtra)
	if extra {
		hi = TimeMaxExtra
	}
	switch {
	case sec <= TimeMin:
		return TimeMin, 0
	case sec >= hi:
		return hi, 0
	case !extra:
		return sec, 0
	}
	return sec, min(nsec, nsecMax)
}
