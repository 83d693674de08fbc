package disk

// Inode timestamps as seconds and nanoseconds. The extra (epoch and
// nanosecond) halves are stored only when i_extra_isize covers them.

// MtimeNs is the modification time.
func (in *Inode) MtimeNs() (int64, uint32) { return DecodeTime(in.Mtime, in.MtimeExtra) }

// CtimeNs is the inode change time.
func (in *Inode) CtimeNs() (int64, uint32) { return DecodeTime(in.Ctime, in.CtimeExtra) }

// AtimeNs is the access time.
func (in *Inode) AtimeNs() (int64, uint32) { return DecodeTime(in.Atime, in.AtimeExtra) }

// CrtimeNs is the creation time.
func (in *Inode) CrtimeNs() (int64, uint32) { return DecodeTime(in.Crtime, in.CrtimeExtra) }

// SetMtime stores the modification time.
func (in *Inode) SetMtime(sec int64, nsec uint32) { in.Mtime, in.MtimeExtra = EncodeTime(sec, nsec) }

// SetCtime stores the inode change time.
func (in *Inode) SetCtime(sec int64, nsec uint32) { in.Ctime, in.CtimeExtra = EncodeTime(sec, nsec) }

// SetAtime stores the access time.
func (in *Inode) SetAtime(sec int64, nsec uint32) { in.Atime, in.AtimeExtra = EncodeTime(sec, nsec) }

// SetCrtime stores the creation time.
func (in *Inode) SetCrtime(sec int64, nsec uint32) { in.Crtime, in.CrtimeExtra = EncodeTime(sec, nsec) }
