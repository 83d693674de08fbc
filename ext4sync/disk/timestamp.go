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
