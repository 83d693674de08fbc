package generator

// StopPublishAt makes publishing stop before its step k, with no rollback,
// as a SIGKILL there would; restore puts the normal behaviour back.
func StopPublishAt(k int) (restore func()) {
	publishStep = func(i int, _ *output) bool { return i < k }
	return func() { publishStep = func(int, *output) bool { return true } }
}
