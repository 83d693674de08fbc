package generator_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/lvm-um-gen/lvm-um-gen/generator"
	"github.com/mendersoftware/mender-artifact/areader"
	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/handlers"
)

// readBack is an artifact as mender-artifact's own reader sees it.
type readBack struct {
	Name     string
	Devices  []string
	Type     string
	Provides artifact.TypeInfoProvides
	Depends  artifact.TypeInfoDepends
	Clears   []string
	Meta     map[string]any
	Payload  map[string][]byte
	Scripts  []string
	Signed   bool
}

type memStorer struct{ files map[string][]byte }

func (m *memStorer) Initialize(artifact.HeaderInfoer, artifact.HeaderInfoer, handlers.ArtifactUpdateHeaders) error {
	return nil
}
func (m *memStorer) PrepareStoreUpdate() error { return nil }
func (m *memStorer) StoreUpdate(r io.Reader, info os.FileInfo) error {
	b, err := io.ReadAll(r)
	m.files[info.Name()] = b
	return err
}
func (m *memStorer) FinishStoreUpdate() error { return nil }

type memProducer struct{ s *memStorer }

func (p memProducer) NewUpdateStorer(*string, int) (handlers.UpdateStorer, error) { return p.s, nil }

// readArtifact reads path with areader; verify, if non-nil, checks the
// signature (and the artifact must be signed).
func readArtifact(t *testing.T, path string, verify func(msg, sig []byte) error) *readBack {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ar *areader.Reader
	if verify != nil {
		ar = areader.NewReaderSigned(bytes.NewReader(data))
		ar.VerifySignatureCallback = verify
	} else {
		ar = areader.NewReader(bytes.NewReader(data))
	}
	rb := &readBack{Payload: map[string][]byte{}}
	ar.ScriptsReadCallback = func(r io.Reader, info os.FileInfo) error {
		rb.Scripts = append(rb.Scripts, info.Name())
		return nil
	}
	store := &memStorer{files: rb.Payload}
	for _, typ := range []string{generator.UpdateModule, generator.DeltaModule} {
		h := handlers.NewModuleImage(typ)
		h.SetUpdateStorerProducer(memProducer{store})
		if err := ar.RegisterHandler(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := ar.ReadArtifact(); err != nil {
		t.Fatalf("areader: %v", err)
	}
	rb.Name = ar.GetArtifactName()
	rb.Devices = ar.GetCompatibleDevices()
	rb.Signed = ar.IsSigned
	inst := ar.GetHandlers()
	if len(inst) != 1 {
		t.Fatalf("%d payloads, want 1", len(inst))
	}
	u := inst[0]
	rb.Type = *u.GetUpdateType()
	if rb.Provides, err = u.GetUpdateProvides(); err != nil {
		t.Fatal(err)
	}
	if rb.Depends, err = u.GetUpdateDepends(); err != nil {
		t.Fatal(err)
	}
	rb.Clears = u.GetUpdateClearsProvides()
	if rb.Meta, err = u.GetUpdateMetaData(); err != nil {
		t.Fatal(err)
	}
	return rb
}
