package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/enigate/enigate/schema/release"
)

func newVersionCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "version",
		Short: "print the release, commit and Go version of this binary",
		Long: `Prints the enigate release this binary is, the commit it was built from and the Go toolchain
and platform. The release is also the default image tag every environment deploys
(versions.enigate) and the tag 'make image' builds, so a binary, an image and a rendered overlay
of one release agree. The commit is injected by 'make build'/'make image'; other builds show
the VCS revision the go command stamped, or "unknown". 'enigate --version' is the same.`,
		Args: noArgs,
	}
	output := addOutputFlag(c, formatText, formatJSON, formatYAML)
	c.RunE = func(c *cobra.Command, _ []string) error {
		b := release.Current()
		if output.value != formatText {
			return writeStructured(c.OutOrStdout(), output.value, b)
		}
		_, err := fmt.Fprint(c.OutOrStdout(), versionText(b))
		return err
	}
	return c
}

func versionText(b release.Build) string {
	return fmt.Sprintf("enigate %s\ncommit: %s\ngo: %s %s\n", b.Version, b.Commit, b.GoVersion, b.Platform)
}
