package xattr

type byteXattr struct {
	name  string
	value []byte
}

type byteXattrs []byteXattr

func (b byteXattrs) attrs() []Attr {
	out := make([]Attr, len(b))
	for i, x := range b {
		out[i] = Attr{Name: x.name, Value: x.value}
	}
	return out
}
