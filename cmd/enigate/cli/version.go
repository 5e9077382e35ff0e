package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/enigate/enigate/schema/release"
)

func init() {
	register(command{name: "version", summary: "print the release, commit and Go version of this binary", run: runVersion})
}

const versionHelp = `
Prints the enigate release this binary is, the commit it was built from and the Go toolchain
and platform. The release is also the default image tag every environment deploys
(versions.enigate) and the tag 'make image' builds, so a binary, an image and a rendered overlay
of one release agree. The commit is injected by 'make build'/'make image'; other builds show
the VCS revision the go command stamped, or "unknown". 'enigate --version' is the same.`

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version [-o text|json]", versionHelp, stdout, stderr)
	output := fs.String("o", "text", "output format: text or json")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var problems []error
	if len(rest) > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments %q", rest))
	}
	if *output != "text" && *output != "json" {
		problems = append(problems, fmt.Errorf("-o: %q is not text or json", *output))
	}
	if len(problems) > 0 {
		return withCode(ExitError, errors.Join(problems...))
	}
	b := release.Current()
	if *output == "json" {
		out, err := json.MarshalIndent(b, "", "  ")
		if err != nil {
			return withCode(ExitError, err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	_, err = fmt.Fprintf(stdout, "enigate %s\ncommit: %s\ngo: %s %s\n", b.Version, b.Commit, b.GoVersion, b.Platform)
	return err
}
