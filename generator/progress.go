package generator

// Progress receives progress of the long steps (hashing and comparing the
// images, compressing the payload). The CLI draws bars with it; nil
// means no progress.
type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Finish()
}
