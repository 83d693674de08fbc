package plan

// Empty reports whether the plan changes nothing that metadata can show:
// no removals, no new inodes, no metadata or link count changes and no
// directory edits. Only the tests ask.
func (p *Plan) Empty() bool {
	if len(p.Remove) != 0 || p.NewInodes != 0 || len(p.Dirs) != 0 {
		return false
	}
	for i := range p.Inodes {
		if p.Inodes[i].Changes != 0 {
			return false
		}
	}
	return true
}
