package placement

// Every test of the package (the end-to-end ones too) checks, at each
// decision, that the room the policy keeps is what its units hold.
func init() { checkRoom = true }
