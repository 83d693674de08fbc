package generator

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

type tarEntry struct {
	name string
	body string
}

// libraryLikeTar writes entries as tar.FileInfoHeader would: real times,
// owners and names.
func libraryLikeTar(t *testing.T, when time.Time, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.body)), ModTime: when.Add(time.Duration(i) * time.Second),
			Uid: 1000 + i, Gid: 100, Uname: "builder", Gname: "users", Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// normalize pushes data through a normalizer in writes of step bytes.
func normalize(t *testing.T, data []byte, step int) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	n := newTarNormalizer(context.Background(), &out, nil, 1234567890)
	for len(data) > 0 {
		k := min(step, len(data))
		if _, err := n.Write(data[:k]); err != nil {
			return nil, err
		}
		data = data[k:]
	}
	return out.Bytes(), n.Close()
}

func readTar(t *testing.T, data []byte) ([]*tar.Header, []string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	var hdrs []*tar.Header
	var bodies []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, bodies
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
		bodies = append(bodies, string(b))
	}
}

func TestTarNormalizer(t *testing.T) {
	entries := []tarEntry{
		{"header-info", "{}"},
		{"scripts/ArtifactReboot_Leave_50", "#!/bin/sh\n"},
		{"scripts/ArtifactCommit_Enter_01", strings.Repeat("x", 700)},
		{"scripts/ArtifactInstall_Enter_10", ""},
		{"headers/0000/type-info", `{"type":"lvm-um"}`},
		{"scripts/late", "not in the first run of scripts"},
	}
	a := libraryLikeTar(t, time.Unix(1e9, 0), entries)
	b := libraryLikeTar(t, time.Unix(2e9, 0), []tarEntry{entries[0], entries[3], entries[1], entries[2], entries[4], entries[5]})
	var outs [][]byte
	for i, in := range [][]byte{a, b} {
		for _, step := range []int{1, 7, 512, 1 << 20} {
			out, err := normalize(t, in, step)
			if err != nil {
				t.Fatalf("input %d step %d: %v", i, step, err)
			}
			outs = append(outs, out)
		}
	}
	for i := range outs {
		if !bytes.Equal(outs[i], outs[0]) {
			t.Fatalf("output %d differs from output 0", i)
		}
	}
	hdrs, bodies := readTar(t, outs[0])
	want := []string{"header-info", "scripts/ArtifactCommit_Enter_01", "scripts/ArtifactInstall_Enter_10",
		"scripts/ArtifactReboot_Leave_50", "headers/0000/type-info", "scripts/late"}
	for i, h := range hdrs {
		if h.Name != want[i] {
			t.Fatalf("entry %d is %s, want %s", i, h.Name, want[i])
		}
		if h.ModTime.Unix() != 1234567890 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Mode != 0o755 {
			t.Fatalf("entry %s not normalized: %+v", h.Name, h)
		}
	}
	if bodies[1] != strings.Repeat("x", 700) || bodies[4] != `{"type":"lvm-um"}` {
		t.Fatalf("bodies changed: %q", bodies)
	}
}

// ustarBlock hand-builds a ustar header, as Go writes one for a PAX
// entry whose size does not fit the field.
func ustarBlock(name string, typ byte, size int64) []byte {
	h := make([]byte, tarBlock)
	copy(h[tarNameOff:], name)
	putOctal(h[0x64:0x6C], 0o644)
	putOctal(h[tarSizeOff:tarSizeOff+tarSizeLen], size)
	h[tarTypeOff] = typ
	copy(h[tarMagicOff:], "ustar\x0000")
	(&tarNormalizer{}).rewrite(h)
	return h
}

func pad(b []byte) []byte {
	return append(b, make([]byte, (tarBlock-len(b)%tarBlock)%tarBlock)...)
}

func TestTarNormalizerPAXSize(t *testing.T) {
	body := bytes.Repeat([]byte("payload!"), 250) // 2000 bytes, not in the ustar size field
	rec := "size=2000\n"
	rec = fmt.Sprintf("%d %s", len(rec)+3, rec)
	var in []byte
	in = append(in, ustarBlock("PaxHeaders.0/rootfs", tarTypePAX, int64(len(rec)))...)
	in = append(in, pad([]byte(rec))...)
	in = append(in, ustarBlock("rootfs", tar.TypeReg, 0)...)
	in = append(in, pad(body)...)
	in = append(in, make([]byte, 2*tarBlock)...)
	out, err := normalize(t, in, 100)
	if err != nil {
		t.Fatal(err)
	}
	hdrs, bodies := readTar(t, out)
	if len(hdrs) != 1 || hdrs[0].Name != "rootfs" || hdrs[0].Size != 2000 || bodies[0] != string(body) || hdrs[0].ModTime.Unix() != 1234567890 {
		t.Fatalf("read back %d entries: %+v", len(hdrs), hdrs)
	}
}

func TestTarNormalizerErrors(t *testing.T) {
	good := libraryLikeTar(t, time.Unix(0, 0), []tarEntry{{"a", "hello"}})
	if _, err := normalize(t, good[:tarBlock+100], 64); err == nil {
		t.Fatal("truncated inside an entry: no error")
	}
	bad := bytes.Clone(good)
	copy(bad[tarSizeOff:], "9x9")
	if _, err := normalize(t, bad, 512); err == nil {
		t.Fatal("bad size field: no error")
	}
	pax := append(ustarBlock("PaxHeaders.0/a", tarTypePAX, 12), pad([]byte("99 size=1\n"))...)
	if _, err := normalize(t, pax, 512); err == nil {
		t.Fatal("bad PAX record: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n := newTarNormalizer(ctx, io.Discard, nil, 0)
	if _, err := n.Write(good); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func FuzzTarNormalizer(f *testing.F) {
	f.Add([]byte{}, 7)
	f.Add(make([]byte, 1024), 512)
	f.Fuzz(func(t *testing.T, data []byte, step int) {
		if step <= 0 || step > 1<<16 {
			step = 512
		}
		n := newTarNormalizer(context.Background(), io.Discard, nil, 0)
		for len(data) > 0 {
			k := min(step, len(data))
			if _, err := n.Write(data[:k]); err != nil {
				return
			}
			data = data[k:]
		}
		n.Close()
	})
}
