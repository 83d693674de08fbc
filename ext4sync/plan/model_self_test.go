package plan

import (
	"testing"
)

// TestModelCatchesBrokenPlans proves the model check is not vacuous: each
// deliberate corruption of a correct plan must be detected.
func TestModelCatchesBrokenPlans(t *testing.T) {
	old := oldOf(o{"d", dir, 11}, o{"d/e", reg, 12}, o{"x", reg, 13}, o{"y", reg, 13}, o{"l", sym, 14})
	new := newOf(t, "l l", "n d", "n/m f", "x f")
	new.Lookup("l").Target = "moved"
	corrupt := map[string]func(p *Plan){
		"removal order":   func(p *Plan) { p.Remove[0], p.Remove[len(p.Remove)-1] = p.Remove[len(p.Remove)-1], p.Remove[0] },
		"missing free":    func(p *Plan) { p.Remove[0].Free = false },
		"early free":      func(p *Plan) { p.Remove = append(p.Remove, Removal{Path: "x", Kind: reg, Inode: 13, Free: true}) },
		"lost change":     func(p *Plan) { p.Inode(14).Changes = 0 },
		"creation order":  func(p *Plan) { p.Inodes[2], p.Inodes[3] = p.Inodes[3], p.Inodes[2] },
		"wrong links":     func(p *Plan) { p.Inode(13).Links++ },
		"dir order":       func(p *Plan) { p.Dirs[0], p.Dirs[1] = p.Dirs[1], p.Dirs[0] },
		"dropped entry":   func(p *Plan) { p.Dirs[0].Added = nil },
		"content":         func(p *Plan) { p.Inode(13).Content = ContentWrite },
		"wrong old links": func(p *Plan) { p.Inode(13).OldLinks = 1 },
	}
	for name, mutate := range corrupt {
		p, err := Make(old, new)
		if err != nil {
			t.Fatal(err)
		}
		mutate(p)
		m := modelOf(old)
		err = m.apply(p)
		if err == nil {
			err = m.matches(p, new)
		}
		if err == nil {
			t.Errorf("%s: corruption not detected%s", name, dump(p))
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
