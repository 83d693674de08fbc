package manifest

import (
	"reflect"
	"testing"
)

// FuzzDecode feeds Decode arbitrary manifests: as raw layouts (deflated
// and base64-encoded here, so the fuzzer explores the layout) and as
// arbitrary strings. It must never panic, and whatever it accepts must
// validate and survive an Encode/Decode round trip unchanged.
func FuzzDecode(f *testing.F) {
	m := sample(1, 40, true)
	text, _ := m.Encode()
	f.Add([]byte(text), true)
	f.Add(append(rawHeader(3, 1), make([]byte, 3*8+9)...), false)
	f.Add(rawHeader(0, 0), false)
	f.Fuzz(func(t *testing.T, data []byte, asText bool) {
		in := deflate(data)
		if asText {
			in = string(data)
		}
		got, err := Decode(in, 1<<28)
		if err != nil {
			return
		}
		if err := got.Validate(); err != nil {
			t.Fatalf("Decode accepted a manifest that does not validate: %v", err)
		}
		again, err := got.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(again, 1<<28)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
