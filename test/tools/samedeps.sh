#!/usr/bin/env bash
# samedeps.sh DIR... — fail when the Go modules in DIR... compile packages of one module at
# different versions. A package is compiled once for all of them (the Go build cache) only when
# its whole dependency chain has the same versions: one differing module deep in the graph (say
# golang.org/x/text) recompiles every k8s.io package above it, minutes on a cold CI run.
# Fix a mismatch with `go get MODULE@VERSION` in the module that resolves the lower version.
set -euo pipefail

if [[ $# -lt 2 ]]; then
	echo "usage: $0 DIR DIR..." >&2
	exit 2
fi

# versions: "module version dir" for every non-main module providing a package to DIR's tests.
for dir in "$@"; do
	(cd "$dir" && go list -deps -test -f '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}' ./...) |
		sort -u | sed "s|\$| $dir|"
done | awk '
	# Replaced local modules (version empty, e.g. the product in test/helm) are skipped.
	NF == 3 { seen[$1] = seen[$1] ? seen[$1] : $2; vers[$1] = vers[$1] " " $2 " (" $3 ")"; if ($2 != seen[$1]) bad[$1] = 1 }
	END {
		n = 0
		for (m in bad) { printf "%s: compiled at%s (use one version: go get %s@<newest> in the others)\n", m, vers[m], m; n++ }
		exit n > 0
	}' | sort
