package apply

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/blockmap"
)

// FuzzWriter drives a Writer with arbitrary pieces (RAW data, FILL
// patterns, whole streams, gaps) over an arbitrary geometry and checks it
// against a plain byte array: the volume ends up holding exactly the
// pieces over the old bytes, exactly the units whose bytes changed were
// written, each write is whole units, and the cost is the model's for
// those units. Pieces out of order must be refused without a write.
func FuzzWriter(f *testing.F) {
	f.Add([]byte{3, 1, 2, 10, 0, 40, 7, 1, 30, 200, 9, 2, 0, 255, 1})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{7, 3, 1, 0, 0, 255, 255, 255, 3, 0, 0, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) < 3 {
			return
		}
		size := 1 + int64(binary.LittleEndian.Uint16([]byte{prog[0], prog[1]}))*37%(1<<17)
		unit := int64(512) << (prog[2] % 6) // 512 B .. 16 KiB
		window := unit * int64(1+prog[2]/6%4)
		prog = prog[3:]
		old := make([]byte, size)
		for i := range old {
			old[i] = byte(i * 7)
		}
		want := slices.Clone(old)
		vol := &memVolume{data: slices.Clone(old)}
		m := blockmap.Model{WriteUnit: unit, Chunk: 4096, ImageSize: size}
		w, err := New(vol, m, window)
		if err != nil {
			t.Fatal(err)
		}
		next := int64(0)
		refused := false
		for len(prog) >= 4 && !refused {
			op, gap, n, val := prog[0]%4, int64(prog[1])*int64(prog[1]), int64(prog[2])*int64(prog[3]%32+1), prog[3]
			prog = prog[4:]
			off := next + gap
			if op == 3 { // a piece that goes back: must be refused
				off = next - 1 - gap
			}
			if off < 0 || n > size-off || off > size {
				continue
			}
			data := bytes.Repeat([]byte{val}, int(n))
			switch op {
			case 0:
				err = w.Put(off, data)
			case 1:
				err = w.ReadFrom(off, n, bytes.NewReader(data))
			case 2:
				pat := [4]byte{val, val + 1, val + 2, val + 3}
				for i := range data {
					data[i] = pat[i%4]
				}
				err = w.Fill(off, n, pat)
			case 3:
				err = w.Put(off, data)
				if err == nil && next > 0 {
					t.Fatalf("a piece at %d after one ending at %d was accepted", off, next)
				}
				if err != nil {
					refused = true
					continue
				}
			}
			if err != nil {
				t.Fatalf("op %d at %d+%d: %v", op, off, n, err)
			}
			copy(want[off:], data)
			next = off + n
		}
		if refused {
			if _, err := w.Close(); err == nil {
				t.Fatal("Close after a refused piece succeeded")
			}
			return
		}
		res, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(vol.data, want) {
			t.Fatal("the volume does not hold the pieces over the old bytes")
		}
		wantUnits := differingUnits(old, want, unit)
		var got []int64
		for _, wr := range vol.writes {
			if wr[0]%unit != 0 || (wr[1]%unit != 0 && wr[0]+wr[1] != size) {
				t.Fatalf("write %d+%d is not whole units of %d", wr[0], wr[1], unit)
			}
			for u := wr[0] / unit; u*unit < wr[0]+wr[1]; u++ {
				got = append(got, u)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, wantUnits) {
			t.Fatalf("wrote units %v, want %v", got, wantUnits)
		}
		if est, _ := m.Estimate(wantUnits); res != est {
			t.Fatalf("cost %+v, want %+v", res, est)
		}
	})
}
