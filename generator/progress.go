package generator

import "io"

// Progress receives progress of the long steps (hashing and comparing the
// images, compressing the payload). The CLI draws bars with it; nil
// means no progress.
type Progress interface {
	Start(label string, total int64)
	Add(n int64)
	Finish()
}

// progressAdapter presents a Progress as mender-artifact's ProgressWriter,
// which the library feeds with the uncompressed payload bytes.
type progressAdapter struct {
	p Progress
	w io.Writer
}

func (a *progressAdapter) Wrap(w io.WriteCloser) io.Writer {
	a.w = w
	return a
}

func (a *progressAdapter) Reset(size int64, filename string, _ int) {
	a.p.Start("compressing payload", size)
}

func (a *progressAdapter) Finish() { a.p.Finish() }

func (a *progressAdapter) Write(b []byte) (int, error) {
	n, err := a.w.Write(b)
	a.p.Add(int64(n))
	return n, err
}
