package generator

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
	"github.com/mendersoftware/mender-artifact/artifact"
)

// Artifact constants: what an lvm-um update is to the Mender client.
const (
	// UpdateModule is the payload type of a full artifact: one payload
	// file, PayloadName, holding the whole new image. The 2021 prototype
	// module and the lvm-um module both install it.
	UpdateModule = "lvm-um"
	// PayloadName is the file name of the image inside the artifact.
	PayloadName = "rootfs"
	// DeltaModule is the payload type of a delta artifact: one payload
	// file, DeltaPayloadName, an Android sparse image of the chunks that
	// differ from the base (generator/sparse). Only the lvm-um module is
	// installed under this name, so a device running the prototype, which
	// would dd the sparse file over its snapshot, refuses the artifact
	// before any module runs.
	DeltaModule = "lvm-um-delta"
	// DeltaPayloadName is the delta's payload file name.
	DeltaPayloadName = "rootfs.simg"
	// artifactFormat and artifactVersion: a Mender format 3 artifact,
	// the only one that carries module-image payloads.
	artifactFormat  = "mender"
	artifactVersion = 3
	// DefaultCompression matches mender-artifact's default.
	DefaultCompression = "gzip"

	// Type-info keys.
	ProvidesVersion  = "rootfs-image.version"
	ProvidesChecksum = "rootfs-image.checksum"
	ClearsRootfs     = "rootfs-image.*"
)

// MaxEpoch is the latest entry time a ustar header holds (11 octal digits).
const MaxEpoch = 1<<33 - 1

// Meta-data keys written into the artifact's header (flat: numbers and
// strings only), so the device and the server can see what the release
// was sized for. The device module reads them too; they are defined in
// generator/manifest, next to the manifest's own key.
const (
	MetaPredictedCOW  = manifest.MetaPredictedCOW
	MetaWriteUnit     = manifest.MetaWriteUnit
	MetaChunk         = manifest.MetaChunk
	MetaSnapshot      = manifest.MetaSnapshot
	MetaReserve       = manifest.MetaReserve
	MetaBaseSHA256    = manifest.MetaBaseSHA256
	MetaImageBytes    = manifest.MetaImageBytes
	MetaUnitsChanged  = manifest.MetaUnitsChanged
	MetaChunksChanged = manifest.MetaChunksChanged
)

// ArtifactSpec is everything about the artifact that is not the image.
type ArtifactSpec struct {
	Name            string   // artifact name (-n)
	DeviceTypes     []string // compatible devices (-t)
	SoftwareVersion string   // rootfs-image.version; "" means Name
	// Provides and Depends are extra type-info entries (-p, -d). They may
	// not name the keys the generator sets itself.
	Provides map[string]string
	Depends  map[string]string
	// BaseChecksum, when not "", becomes the type-info depends
	// rootfs-image.checksum: the device must run exactly the base.
	BaseChecksum  string
	ImageChecksum string          // rootfs-image.checksum provided
	Scripts       []string        // state script paths (-s)
	Compression   string          // a mender-artifact compressor id; "" means gzip
	Signer        artifact.Signer // nil: unsigned
	MetaData      map[string]any  // flat meta-data
	// Epoch is the modification time put on every tar entry
	// (SOURCE_DATE_EPOCH, or 0), so the output does not depend on when
	// or by whom it was made.
	Epoch int64
	// PayloadType is UpdateModule ("" means it) or DeltaModule.
	PayloadType string
}

// CheckCompression reports whether id names a mender-artifact compressor.
func CheckCompression(id string) error {
	if id == "" {
		return nil
	}
	if _, err := artifact.NewCompressorFromId(id); err != nil {
		return fmt.Errorf("compression %q: not one of %v", id, artifact.GetRegisteredCompressorIds())
	}
	return nil
}

// CheckScripts validates state script names as mender-artifact does.
func CheckScripts(paths []string) error {
	var s artifact.Scripts
	for _, p := range paths {
		if err := s.Add(p); err != nil {
			return err
		}
	}
	return nil
}

// typeInfo builds the payload's type-info.
func (s *ArtifactSpec) typeInfo() (*artifact.TypeInfoV3, error) {
	version := s.SoftwareVersion
	if version == "" {
		version = s.Name
	}
	provides := artifact.TypeInfoProvides{
		ProvidesVersion:  version,
		ProvidesChecksum: s.ImageChecksum,
	}
	for k, v := range s.Provides {
		if _, taken := provides[k]; taken {
			return nil, fmt.Errorf("provides %q is set by lvm-um-gen itself", k)
		}
		provides[k] = v
	}
	depends := artifact.TypeInfoDepends{}
	if s.BaseChecksum != "" {
		depends[ProvidesChecksum] = s.BaseChecksum
	}
	for k, v := range s.Depends {
		if _, taken := depends[k]; taken {
			return nil, fmt.Errorf("depends %q is set by lvm-um-gen itself (see --no-base-checksum)", k)
		}
		depends[k] = v
	}
	typ := s.payloadType()
	ti := &artifact.TypeInfoV3{
		Type:                   &typ,
		ArtifactProvides:       provides,
		ClearsArtifactProvides: []string{ClearsRootfs},
	}
	if len(depends) > 0 {
		ti.ArtifactDepends = depends
	}
	return ti, nil
}

// payloadType is the spec's payload type, UpdateModule by default.
func (s *ArtifactSpec) payloadType() string {
	if s.PayloadType == "" {
		return UpdateModule
	}
	return s.PayloadType
}

// payloadName is the payload file name that goes with the type.
func (s *ArtifactSpec) payloadName() (string, error) {
	switch s.payloadType() {
	case UpdateModule:
		return PayloadName, nil
	case DeltaModule:
		return DeltaPayloadName, nil
	}
	return "", fmt.Errorf("payload type %q: want %q or %q", s.PayloadType, UpdateModule, DeltaModule)
}

// WriteArtifact writes a Mender format 3 module-image artifact of the
// spec's payload type (lvm-um or lvm-um-delta) to w, with the single
// payload file payloadPath, whose base name must be "rootfs" for lvm-um
// and "rootfs.simg" for lvm-um-delta; its tar entry keeps the file's
// permission bits. The payload is read once (hashed and compressed on
// the way) into a temporary file in os.TempDir(), i.e. $TMPDIR, removed
// on every path but SIGKILL. It stops with ctx.Err() soon after ctx is
// cancelled. progress may be nil. Generate does not use it: it compresses
// the new image while measuring it (see artwriter.go).
//
// Reproducibility: the output is a function of the payload's bytes and
// permission bits, the state scripts' names, bytes and permission bits,
// the spec (including Epoch and the signing key) and the versions of
// mender-artifact and the compressors pinned in go.mod. Nothing else
// reaches it: every tar entry's mtime is Epoch and its owner 0/0 with no
// names, scripts are sorted by name, gzip headers carry no time, device
// types are sorted, JSON maps are sorted by key, signatures are
// deterministic (RSA PKCS #1 v1.5, ECDSA with RFC 6979 nonces), and the
// parallel compressors give the same bytes whatever GOMAXPROCS is.
func WriteArtifact(ctx context.Context, w io.Writer, spec *ArtifactSpec, payloadPath string, progress Progress) error {
	name, err := spec.check()
	if err != nil {
		return err
	}
	if filepath.Base(payloadPath) != name {
		return fmt.Errorf("artifact: a %s payload %s must be named %q", spec.payloadType(), payloadPath, name)
	}
	p, err := payloadFromFile(ctx, os.TempDir(), spec, payloadPath, progress)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("artifact: %w", err)
	}
	defer p.remove()
	return writeArtifact(ctx, w, spec, p)
}
