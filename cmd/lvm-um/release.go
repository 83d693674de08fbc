package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/lvm-um-gen/lvm-um-gen/generator/manifest"
)

// The payload types the module handles.
const (
	typeFull  = "lvm-um"
	typeDelta = "lvm-um-delta"
)

// checksumKey is the type-info key of an image's sha256, provided by the
// new image and depended on for the base.
const checksumKey = "rootfs-image.checksum"

// defaultReserve is the runtime reserve when neither the config nor the
// artifact's meta-data names one (the generator's default).
const defaultReserve = 8 << 20

// release is what the artifact asks of the device.
type release struct {
	delta bool
	man   *manifest.Manifest
	// reserve is the space the running update may write before it is
	// committed; reserveFrom says where the figure came from.
	reserve     int64
	reserveFrom string
}

// readRelease reads the artifact's headers from the tree: its payload
// type, its base manifest (meta-data) and its checksums (type-info),
// which must all agree.
func (m *module) readRelease() (*release, error) {
	typ, err := m.tree.payloadType()
	if err != nil {
		return nil, badInput(err)
	}
	rel := &release{}
	switch typ {
	case typeFull:
	case typeDelta:
		rel.delta = true
	default:
		return nil, badInput(fmt.Errorf("payload type %q: this module handles %s and %s", typ, typeFull, typeDelta))
	}
	meta, err := m.tree.readHeader("meta-data")
	if err != nil {
		return nil, badInput(err)
	}
	rel.man, err = manifest.ParseMetaData(meta, manifest.DefaultMaxImageBytes)
	if err != nil {
		return nil, badInput(fmt.Errorf("artifact meta-data: %w", err))
	}
	ti, err := m.tree.typeInfo()
	if err != nil {
		return nil, badInput(err)
	}
	provided, err := hex.DecodeString(ti.Provides[checksumKey])
	if err != nil || !bytes.Equal(provided, rel.man.ImageSHA256[:]) {
		return nil, badInput(fmt.Errorf("artifact type-info provides %s %q, the manifest's new image is %x",
			checksumKey, ti.Provides[checksumKey], rel.man.ImageSHA256))
	}
	switch dep := ti.Depends[checksumKey].(type) {
	case nil:
		if rel.delta {
			return nil, badInput(fmt.Errorf("a delta artifact must depend on the base's %s, this one does not", checksumKey))
		}
	case string:
		if err := rel.man.CheckBase(dep); err != nil {
			return nil, badInput(fmt.Errorf("artifact type-info depends %s: %w", checksumKey, err))
		}
	default:
		return nil, badInput(fmt.Errorf("artifact type-info depends %s is a %T, want one checksum", checksumKey, dep))
	}
	rel.reserve, rel.reserveFrom, err = m.reserve(meta)
	if err != nil {
		return nil, badInput(err)
	}
	return rel, nil
}

// reserve picks the runtime reserve: the config's, else the artifact's
// reserve_bytes, else the default.
func (m *module) reserve(meta []byte) (int64, string, error) {
	if m.cfg.ReserveSet {
		return m.cfg.Reserve, "config reserve", nil
	}
	d := json.NewDecoder(bytes.NewReader(meta))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return 0, "", fmt.Errorf("artifact meta-data: %v", err)
	}
	v, ok := obj[manifest.MetaReserve]
	if !ok {
		return defaultReserve, "default", nil
	}
	num, ok := v.(json.Number)
	n, err := num.Int64()
	if !ok || err != nil || n < 0 || n > 1<<50 {
		return 0, "", fmt.Errorf("artifact meta-data %s = %v: want a number of bytes", manifest.MetaReserve, v)
	}
	return n, "artifact " + manifest.MetaReserve, nil
}
