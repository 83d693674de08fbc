package basesource

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mendersoftware/mender-artifact/areader"
	"github.com/mendersoftware/mender-artifact/artifact"
	"github.com/mendersoftware/mender-artifact/handlers"
)

// extract reads the artifact from r with mender-artifact's reader and
// writes its one payload file to a new temporary file, whose path it
// returns. Every checksum the format has is verified by the reader, the
// payload's after it was streamed; on any error the file is removed.
func extract(r io.Reader, path string, opts Options) (img string, err error) {
	var verify *verifier
	ar := areader.NewReader(r)
	if opts.VerifyKey != "" {
		pem, err := os.ReadFile(opts.VerifyKey)
		if err != nil {
			return "", fmt.Errorf("base: verify key: %w", err)
		}
		v, err := artifact.NewPKIVerifier(pem)
		if err != nil {
			return "", fmt.Errorf("base: verify key %s: %w", opts.VerifyKey, err)
		}
		verify = &verifier{v: v}
		ar = areader.NewReaderSigned(r)
		ar.VerifySignatureCallback = verify.Verify
	}
	// State scripts are part of the release, not of the image: skip them.
	ar.ScriptsReadCallback = func(io.Reader, os.FileInfo) error { return nil }
	store := &fileStorer{dir: opts.TempDir}
	defer func() {
		// The reader is a library that may not expect every malformed
		// input; a panic in it is a corrupt artifact, not a crash.
		if p := recover(); p != nil {
			err = fmt.Errorf("base: %s: %w: reader failed: %v", path, ErrCorrupt, p)
		}
		if err != nil && store.path != "" {
			os.Remove(store.path)
		}
	}()
	fail := func(stage string, err error) error {
		switch {
		case verify != nil && verify.failed != nil:
			return fmt.Errorf("base: %s: %w: %v", path, ErrSignature, verify.failed)
		case verify != nil && !verify.called:
			return fmt.Errorf("base: %s: %w: the artifact is not signed (%v)", path, ErrSignature, err)
		case errors.Is(err, errTwoFiles):
			return fmt.Errorf("base: %s: %w: %v", path, ErrPayload, err)
		}
		return fmt.Errorf("base: %s: %s: %w: %v", path, stage, ErrCorrupt, err)
	}
	if err := ar.ReadArtifactHeaders(); err != nil {
		return "", fail("headers", err)
	}
	inst := ar.GetHandlers()
	if len(inst) != 1 {
		return "", fmt.Errorf("base: %s: %w: %d payloads", path, ErrPayload, len(inst))
	}
	for _, h := range inst {
		if err := checkType(h.GetUpdateType()); err != nil {
			return "", fmt.Errorf("base: %s: %w", path, err)
		}
		h.SetUpdateStorerProducer(store)
	}
	if err := ar.ReadArtifactData(); err != nil {
		return "", fail("payload", err)
	}
	if store.path == "" {
		return "", fmt.Errorf("base: %s: %w: no payload file", path, ErrPayload)
	}
	if err := checkExt4(store.path); err != nil {
		return "", fmt.Errorf("base: %s: payload %s: %w", path, store.name, err)
	}
	return store.path, nil
}

// BaseTypes are the payload types whose one file is a whole rootfs image:
// a Mender rootfs-image artifact, or an earlier lvm-um release. Any other
// module's payload (a package, a script, a delta) is not an image of the
// rootfs the device runs, even when it happens to be an ext4 file.
var BaseTypes = []string{"rootfs-image", "lvm-um"}

// checkType refuses a payload whose type is not one of BaseTypes.
func checkType(t *string) error {
	if t == nil {
		return fmt.Errorf("%w: no payload type (a bootstrap artifact carries no image)", ErrType)
	}
	for _, ok := range BaseTypes {
		if *t == ok {
			return nil
		}
	}
	return fmt.Errorf("%w: payload type %q, want one of %q", ErrType, *t, BaseTypes)
}

// errTwoFiles: the payload has a second file (the storer refuses it).
var errTwoFiles = errors.New("more than one payload file")

// verifier records whether the signature was checked and how it failed.
type verifier struct {
	v      *artifact.PKISigner
	called bool
	failed error
}

func (v *verifier) Verify(message, sig []byte) error {
	v.called = true
	if err := v.v.Verify(message, sig); err != nil {
		v.failed = err
		return err
	}
	return nil
}

// checkExt4 reads the start of the payload file for the ext4 magic.
func checkExt4(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, headLen)
	n, _ := io.ReadFull(f, head)
	if !IsExt4(head[:n]) {
		return ErrNotExt4
	}
	return nil
}

// fileStorer is the update storer the reader hands the payload to: it
// streams the one payload file to a temporary file.
type fileStorer struct {
	dir  string
	path string // the temporary file, once created
	name string // the payload file's name in the artifact
}

func (s *fileStorer) NewUpdateStorer(*string, int) (handlers.UpdateStorer, error) { return s, nil }

func (s *fileStorer) Initialize(artifact.HeaderInfoer, artifact.HeaderInfoer, handlers.ArtifactUpdateHeaders) error {
	return nil
}

func (s *fileStorer) PrepareStoreUpdate() error { return nil }

func (s *fileStorer) StoreUpdate(r io.Reader, info os.FileInfo) error {
	if s.path != "" {
		return fmt.Errorf("%w: %s and %s", errTwoFiles, s.name, info.Name())
	}
	f, err := os.CreateTemp(s.dir, "base-*.ext4")
	if err != nil {
		return err
	}
	s.path, s.name = f.Name(), info.Name()
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *fileStorer) FinishStoreUpdate() error { return nil }
