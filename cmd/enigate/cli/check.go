package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/enigate/enigate/webhook/check"
)

func init() {
	register(command{name: "check", summary: "judge manifests offline as the webhook would (team CI)", run: runCheck})
}

const checkHelp = `
Judges Kubernetes manifests exactly as enigate's admission webhook would against one
environment's policy, offline: route ownership (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute,
UDPRoute, XListenerSet), ReferenceGrants, Gateways, and Node/CiliumNode capacity. PATH is a
file, a directory (every .yaml, .yml, .json below it) or - for stdin; multi-document YAML,
List objects and 'kustomize build' output work.

The policy and the platform's cluster facts (Gateways and their listeners, ReferenceGrants,
HTTPRoutes) come from the rendered overlay given with --env; the manifests add their own.
--facts PATH adds facts that are not judged (another team's ReferenceGrant, say). Objects of
kinds the webhook does not judge are skipped and counted.

Each violation is one line: kind namespace/name: field: what is wrong (what is allowed).
Warnings (advisories the webhook returns too) are prefixed "warning:" and do not fail.
See docs/webhook.md ("Check in CI").

Exit codes: 0 every object would be admitted, 1 violations, 2 could not run (bad flags, a
file that does not parse, an object without namespace, no policy in the overlay).`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", "check --env OVERLAY_DIR [-o text|json] [--facts PATH] [-n NAMESPACE] PATH...", checkHelp, stdout, stderr)
	var o check.Options
	var facts stringList
	fs.StringVar(&o.Env, "env", "", "rendered overlay directory of the environment, e.g. overlays/prod (required)")
	fs.Var(&facts, "facts", "file or directory of cluster facts (Gateways, ReferenceGrants, HTTPRoutes) not judged (repeatable)")
	fs.StringVar(&o.Namespace, "n", "", "namespace of objects that name none (as kubectl apply -n)")
	output := fs.String("o", "text", "output format: text or json")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return withCode(ExitError, fmt.Errorf("-o: %q is not text or json", *output))
	}
	o.Paths, o.Facts, o.Stdin = pos, facts, os.Stdin
	rep, err := check.Run(o)
	if err != nil {
		return withCode(ExitError, err)
	}
	if *output == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return withCode(ExitError, err)
	}
	fmt.Fprintln(stderr, rep.Summary())
	if rep.Violations > 0 {
		return withCode(ExitFindings, errors.New(""))
	}
	return nil
}
