package basesource

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/ext4sync/ext4test"

	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/awriter"
	"github.com/mendersoftware/mender-artifact/handlers"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fakeExt4 is size pseudo-random bytes with an ext4 superblock magic:
// enough for Resolve, which only looks at the magic.
func fakeExt4(t testing.TB, size int, seed byte) []byte {
	t.Helper()
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7+int(seed)) ^ byte(i>>9)
	}
	binary.LittleEndian.PutUint16(b[sbOffset+sbMagicOff:], ext4Magic)
	return b
}

// keys is one RSA key pair per test binary: a signer and the PEM public
// key file's bytes.
var keys struct {
	once   sync.Once
	signer *artifact.PKISigner
	public []byte
	other  []byte // a second public key that verifies nothing
}

func testKeys(t testing.TB) (*artifact.PKISigner, []byte, []byte) {
	keys.once.Do(func() {
		gen := func() (*rsa.PrivateKey, []byte) {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			must(t, err)
			pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
			must(t, err)
			return k, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})
		}
		k, pub := gen()
		priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		s, err := artifact.NewPKISigner(priv)
		must(t, err)
		_, other := gen()
		keys.signer, keys.public, keys.other = s, pub, other
	})
	return keys.signer, keys.public, keys.other
}

// writeArtifact writes a format-3 artifact whose one payload is the file
// payload: a rootfs-image when module is "", else a module-image of that
// type. comp is a mender-artifact compressor id; signer may be nil.
func writeArtifact(t testing.TB, payload, module, comp string, signer artifact.Signer) string {
	t.Helper()
	c, err := artifact.NewCompressorFromId(comp)
	must(t, err)
	out := filepath.Join(t.TempDir(), "a.mender")
	f, err := os.Create(out)
	must(t, err)
	defer f.Close()
	var aw *awriter.Writer
	if signer != nil {
		aw = awriter.NewWriterSigned(f, c, signer)
	} else {
		aw = awriter.NewWriter(f, c)
	}
	typ := "rootfs-image"
	var upd handlers.Composer = handlers.NewRootfsV3(payload)
	if module != "" {
		typ = module
		m := handlers.NewModuleImage(module)
		must(t, m.SetUpdateFiles([]*handlers.DataFile{{Name: payload}}))
		upd = m
	}
	must(t, aw.WriteArtifact(&awriter.WriteArtifactArgs{
		Format:     "mender",
		Version:    3,
		Devices:    []string{"dev"},
		Name:       "release-1",
		Updates:    &awriter.Updates{Updates: []handlers.Composer{upd}},
		Depends:    &artifact.ArtifactDepends{CompatibleDevices: []string{"dev"}},
		Provides:   &artifact.ArtifactProvides{ArtifactName: "release-1"},
		TypeInfoV3: &artifact.TypeInfoV3{Type: &typ, ArtifactProvides: artifact.TypeInfoProvides{"rootfs-image.version": "1"}},
	}))
	return out
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	must(t, os.WriteFile(p, data, 0o644))
	return p
}

// resolveBytes resolves path and returns the image's bytes, checking that
// cleanup removes a temporary image and leaves a raw one alone.
func resolveBytes(t *testing.T, path string, opts Options) ([]byte, error) {
	t.Helper()
	img, cleanup, err := Resolve(path, opts)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(img)
	must(t, err)
	cleanup()
	_, statErr := os.Stat(img)
	if img == path && statErr != nil {
		t.Errorf("cleanup removed the caller's raw image")
	}
	if img != path && !os.IsNotExist(statErr) {
		t.Errorf("cleanup left %s (%v)", img, statErr)
	}
	return data, nil
}

func TestRawImage(t *testing.T) {
	want := fakeExt4(t, 8192, 1)
	p := writeTemp(t, "base.img", want)
	img, cleanup, err := Resolve(p, Options{})
	must(t, err)
	cleanup()
	if img != p {
		t.Errorf("raw image resolved to %s, want it used in place", img)
	}
	_, _, pub := testKeys(t)
	_, _, err = Resolve(p, Options{VerifyKey: writeTemp(t, "k.pem", pub)})
	if !errors.Is(err, ErrSignature) {
		t.Errorf("raw image with a key: err = %v, want ErrSignature", err)
	}
}

func TestArtifacts(t *testing.T) {
	signer, pub, other := testKeys(t)
	want := fakeExt4(t, 300<<10, 2)
	payload := writeTemp(t, "rootfs.ext4", want)
	dir := t.TempDir()
	for _, module := range []string{"", "lvm-um"} {
		for _, comp := range []string{"gzip", "zstd_better", "none"} {
			for _, signed := range []bool{false, true} {
				name := "rootfs-image"
				if module != "" {
					name = module
				}
				name += "/" + comp
				if signed {
					name += "/signed"
				}
				t.Run(name, func(t *testing.T) {
					var s artifact.Signer
					if signed {
						s = signer
					}
					a := writeArtifact(t, payload, module, comp, s)
					got, err := resolveBytes(t, a, Options{TempDir: dir})
					must(t, err)
					if !bytes.Equal(got, want) {
						t.Fatalf("payload differs (%d bytes, want %d)", len(got), len(want))
					}
					_, err = resolveBytes(t, a, Options{TempDir: dir, VerifyKey: writeTemp(t, "pub.pem", pub)})
					if signed {
						must(t, err)
					} else if !errors.Is(err, ErrSignature) {
						t.Fatalf("unsigned with key: err = %v, want ErrSignature", err)
					}
					if signed {
						_, err = resolveBytes(t, a, Options{TempDir: dir, VerifyKey: writeTemp(t, "other.pem", other)})
						if !errors.Is(err, ErrSignature) {
							t.Fatalf("wrong key: err = %v, want ErrSignature", err)
						}
					}
				})
			}
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestPayloadNotExt4(t *testing.T) {
	payload := writeTemp(t, "rootfs", bytes.Repeat([]byte("not ext4"), 1000))
	dir := t.TempDir()
	_, _, err := Resolve(writeArtifact(t, payload, "lvm-um", "gzip", nil), Options{TempDir: dir})
	if !errors.Is(err, ErrNotExt4) {
		t.Fatalf("err = %v, want ErrNotExt4", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// Issue 14, item 8: a module-image artifact of another type is not a
// base, even when its one payload file is an ext4 image.
func TestOtherModuleType(t *testing.T) {
	payload := writeTemp(t, "rootfs", fakeExt4(t, 64<<10, 9))
	for _, module := range []string{"foo", "lvm-um-delta", "rootfs-image-v2"} {
		dir := t.TempDir()
		_, _, err := Resolve(writeArtifact(t, payload, module, "gzip", nil), Options{TempDir: dir})
		if !errors.Is(err, ErrType) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), module) {
			t.Errorf("%s: err = %v, want ErrType naming the type", module, err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: temporary files left behind: %v", module, left)
		}
	}
}

func TestNotBase(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty": nil, "text": bytes.Repeat([]byte("hello\n"), 500), "zeros": make([]byte, 4096),
	} {
		_, _, err := Resolve(writeTemp(t, name, data), Options{})
		if !errors.Is(err, ErrNotBase) {
			t.Errorf("%s: err = %v, want ErrNotBase", name, err)
		}
	}
}

// TestCorrupt: a flipped byte anywhere in an artifact (outside the tar
// padding) or a truncation is an error, never a wrong payload.
func TestCorrupt(t *testing.T) {
	want := fakeExt4(t, 64<<10, 3)
	payload := writeTemp(t, "rootfs.ext4", want)
	good, err := os.ReadFile(writeArtifact(t, payload, "", "gzip", nil))
	must(t, err)
	dir := t.TempDir()
	for _, cut := range []int{len(good) / 3, len(good) / 2, len(good) - 2048} {
		_, err := resolveBytes(t, writeTemp(t, "cut.mender", good[:cut]), Options{TempDir: dir})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("cut at %d: err = %v, want ErrInvalid", cut, err)
		}
	}
	for off := 600; off < len(good); off += 251 {
		bad := append([]byte(nil), good...)
		bad[off] ^= 0x5a
		got, err := resolveBytes(t, writeTemp(t, "bad.mender", bad), Options{TempDir: dir})
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("flip at %d: resolved a different payload without error", off)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("flip at %d: err = %v, want ErrInvalid", off, err)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestMenderArtifactCLI: an artifact written by the real mender-artifact
// tool from an mkfs.ext4 image resolves to the same bytes.
func TestMenderArtifactCLI(t *testing.T) {
	cli := ext4test.Tool(t, "mender-artifact")
	mkfs := ext4test.Tool(t, "mkfs.ext4")
	img := filepath.Join(t.TempDir(), "rootfs.ext4")
	if out, err := exec.Command(mkfs, "-q", "-F", "-b", "1024", img, "4M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	want, err := os.ReadFile(img)
	must(t, err)
	for _, comp := range []string{"gzip", "none"} {
		out := filepath.Join(t.TempDir(), "a.mender")
		cmd := exec.Command(cli, "write", "rootfs-image", "-f", img, "-n", "x", "-t", "dev", "-o", out, "--compression", comp)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mender-artifact: %v\n%s", err, msg)
		}
		got, err := resolveBytes(t, out, Options{})
		must(t, err)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: payload differs from the image", comp)
		}
	}
}

func TestTwoPayloadFiles(t *testing.T) {
	a := writeTemp(t, "one.ext4", fakeExt4(t, 4096, 5))
	b := writeTemp(t, "two.ext4", fakeExt4(t, 4096, 6))
	c, err := artifact.NewCompressorFromId("gzip")
	must(t, err)
	out := filepath.Join(t.TempDir(), "two.mender")
	f, err := os.Create(out)
	must(t, err)
	m := handlers.NewModuleImage("lvm-um")
	must(t, m.SetUpdateFiles([]*handlers.DataFile{{Name: a}, {Name: b}}))
	typ := "lvm-um"
	must(t, awriter.NewWriter(f, c).WriteArtifact(&awriter.WriteArtifactArgs{
		Format: "mender", Version: 3, Devices: []string{"dev"}, Name: "two",
		Updates:    &awriter.Updates{Updates: []handlers.Composer{m}},
		Depends:    &artifact.ArtifactDepends{CompatibleDevices: []string{"dev"}},
		Provides:   &artifact.ArtifactProvides{ArtifactName: "two"},
		TypeInfoV3: &artifact.TypeInfoV3{Type: &typ},
	}))
	must(t, f.Close())
	dir := t.TempDir()
	if _, _, err := Resolve(out, Options{TempDir: dir}); !errors.Is(err, ErrPayload) {
		t.Fatalf("err = %v, want ErrPayload", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// TestMenderArtifactCLISigned: the CLI's signature verifies with the
// matching public key and fails with another.
func TestMenderArtifactCLISigned(t *testing.T) {
	cli := ext4test.Tool(t, "mender-artifact")
	_, _, other := testKeys(t)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	priv := writeTemp(t, "priv.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	must(t, err)
	pub := writeTemp(t, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	want := fakeExt4(t, 64<<10, 7)
	img := writeTemp(t, "rootfs.ext4", want)
	out := filepath.Join(t.TempDir(), "s.mender")
	cmd := exec.Command(cli, "write", "rootfs-image", "-f", img, "-n", "x", "-t", "dev", "-o", out, "-k", priv)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mender-artifact: %v\n%s", err, msg)
	}
	got, err := resolveBytes(t, out, Options{VerifyKey: pub})
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs")
	}
	if _, err := resolveBytes(t, out, Options{VerifyKey: writeTemp(t, "other.pem", other)}); !errors.Is(err, ErrSignature) {
		t.Errorf("wrong key: err = %v, want ErrSignature", err)
	}
}

// TestVersion2: an old format-2 rootfs-image artifact resolves too.
func TestVersion2(t *testing.T) {
	want := fakeExt4(t, 32<<10, 8)
	payload := writeTemp(t, "rootfs.ext4", want)
	c, err := artifact.NewCompressorFromId("gzip")
	must(t, err)
	out := filepath.Join(t.TempDir(), "v2.mender")
	f, err := os.Create(out)
	must(t, err)
	must(t, awriter.NewWriter(f, c).WriteArtifact(&awriter.WriteArtifactArgs{
		Format: "mender", Version: 2, Devices: []string{"dev"}, Name: "old",
		Updates: &awriter.Updates{Updates: []handlers.Composer{handlers.NewRootfsV2(payload)}},
	}))
	must(t, f.Close())
	got, err := resolveBytes(t, out, Options{})
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs")
	}
}
