package disk

// crc16Poly is the reflected CRC-16 (ANSI/IBM, x^16+x^15+x^2+1) polynomial
// that uninit_bg (gdt_csum) descriptor checksums use, as the kernel's crc16.
const crc16Poly = 0xA001

var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for k := 0; k < 8; k++ {
			if c&1 != 0 {
				c = c>>1 ^ crc16Poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// Crc16 continues the kernel's crc16 (no inversion) from crc over p.
func Crc16(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc>>8 ^ crc16Table[byte(crc)^b]
	}
	return crc
}
