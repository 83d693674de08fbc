package manifest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// The flat meta-data keys every lvm-um artifact carries next to MetaKey
// (numbers and strings only, readable by any Mender tool).
const (
	MetaPredictedCOW  = "predicted_cow_bytes"
	MetaWriteUnit     = "write_unit_bytes"
	MetaChunk         = "chunk_bytes"
	MetaSnapshot      = "snapshot_bytes"
	MetaReserve       = "reserve_bytes"
	MetaBaseSHA256    = "base_sha256"
	MetaImageBytes    = "image_bytes"
	MetaUnitsChanged  = "units_changed"
	MetaChunksChanged = "chunks_changed"
)

// CheckBase reports an error unless the manifest was made for the base
// whose SHA-256 is baseSHA256 (hex, e.g. the artifact's depends
// rootfs-image.checksum).
func (m *Manifest) CheckBase(baseSHA256 string) error {
	want, err := hex.DecodeString(baseSHA256)
	if err != nil || len(want) != len(m.BaseSHA256) {
		return invalid("base checksum %q is not a hex SHA-256", baseSHA256)
	}
	if !bytes.Equal(want, m.BaseSHA256[:]) {
		return invalid("made for the base %x, not %s", m.BaseSHA256, baseSHA256)
	}
	return nil
}

// ParseMetaData decodes the manifest in an artifact's meta-data (the
// header/meta-data JSON object a Mender client gives the update module)
// and checks it against the flat keys beside it: base_sha256,
// chunk_bytes, write_unit_bytes and image_bytes must agree with it.
// maxImageBytes is as Decode's.
func ParseMetaData(data []byte, maxImageBytes int64) (*Manifest, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var meta map[string]any
	if err := d.Decode(&meta); err != nil {
		return nil, invalid("meta-data is not a JSON object: %v", err)
	}
	return FromMetaData(meta, maxImageBytes)
}

// FromMetaData is ParseMetaData of an already parsed meta-data object
// (numbers as float64, json.Number or integers).
func FromMetaData(meta map[string]any, maxImageBytes int64) (*Manifest, error) {
	v, ok := meta[MetaKey]
	if !ok {
		return nil, invalid("meta-data has no %q: the artifact was not made by an lvm-um-gen that writes a manifest", MetaKey)
	}
	text, ok := v.(string)
	if !ok {
		return nil, invalid("meta-data %q is a %T, want a string", MetaKey, v)
	}
	m, err := Decode(text, maxImageBytes)
	if err != nil {
		return nil, err
	}
	base, ok := meta[MetaBaseSHA256].(string)
	if !ok {
		return nil, invalid("meta-data has no string %q", MetaBaseSHA256)
	}
	if err := m.CheckBase(base); err != nil {
		return nil, fmt.Errorf("%w (meta-data %s)", err, MetaBaseSHA256)
	}
	for _, k := range []struct {
		key  string
		want int64
	}{{MetaChunk, m.ChunkBytes}, {MetaWriteUnit, m.WriteUnitBytes}, {MetaImageBytes, m.ImageBytes}} {
		got, err := metaInt(meta, k.key)
		if err != nil {
			return nil, err
		}
		if got != k.want {
			return nil, invalid("meta-data %s is %d, the manifest says %d", k.key, got, k.want)
		}
	}
	return m, nil
}

// metaInt reads an integer meta-data value.
func metaInt(meta map[string]any, key string) (int64, error) {
	v, ok := meta[key]
	if !ok {
		return 0, invalid("meta-data has no %q", key)
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, invalid("meta-data %s = %v is not an integer", key, x)
		}
		return int64(x), nil
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	default:
		return 0, invalid("meta-data %s is a %T, want a number", key, v)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid("meta-data %s = %s is not an integer", key, s)
	}
	return n, nil
}
