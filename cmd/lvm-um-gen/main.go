// Command lvm-um-gen builds Mender lvm-um artifacts whose new rootfs image
// differs from the previously shipped one in as few snapshot chunks as
// possible.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "lvm-um-gen",
		Short:         "Generate Mender lvm-um rootfs updates that fit in an LVM snapshot",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "lvm-um-gen:", err)
		os.Exit(1)
	}
}
