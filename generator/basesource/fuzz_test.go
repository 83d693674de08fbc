package basesource

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzResolve: any bytes resolve to an ext4 image or give an ErrInvalid
// error, and leave no temporary file behind on error; never a panic.
func FuzzResolve(f *testing.F) {
	payload := writeTemp(f, "rootfs.ext4", fakeExt4(f, 4096, 4))
	signer, _, _ := testKeys(f)
	for _, a := range []string{
		writeArtifact(f, payload, "", "gzip", nil),
		writeArtifact(f, payload, "lvm-um", "none", signer),
		writeArtifact(f, payload, "lvm-um", "zstd_fast", nil),
	} {
		data, err := os.ReadFile(a)
		must(f, err)
		f.Add(data)
	}
	dir := f.TempDir()
	in := filepath.Join(dir, "input")
	tmp := filepath.Join(dir, "tmp")
	must(f, os.Mkdir(tmp, 0o755))
	f.Fuzz(func(t *testing.T, data []byte) {
		must(t, os.WriteFile(in, data, 0o644))
		img, cleanup, err := Resolve(in, Options{TempDir: tmp})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("error left %v behind", left)
			}
			return
		}
		got, err := os.ReadFile(img)
		must(t, err)
		cleanup()
		if !IsExt4(got) {
			t.Fatalf("resolved to a non-ext4 image")
		}
		if img == in && !bytes.Equal(got, data) {
			t.Fatalf("raw image changed")
		}
	})
}
