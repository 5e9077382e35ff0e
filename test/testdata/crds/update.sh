#!/usr/bin/env bash
# update.sh — re-vendor the CRDs that tests need and sigs.k8s.io/gateway-api does not ship.
# Each file is a verbatim copy from a Go module (fetched through the module proxy into a
# throwaway module, never added to enigate's go.mod) with a provenance header.
# Usage: test/testdata/crds/update.sh   (bump the versions below, then run)
set -euo pipefail

cilium=github.com/cilium/cilium@v1.19.7
certmanager=github.com/cert-manager/cert-manager@v1.21.2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && go mod init crds.tmp >/dev/null 2>&1)

# module_dir MODULE@VERSION prints the module's extracted directory in the module cache.
module_dir() {
	(cd "$tmp" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
}

# vendor MODULE@VERSION PATH OUTFILE
vendor() {
	local mod=$1 path=$2 out=$3 dir
	dir=$(module_dir "$mod")
	{
		echo "# Vendored verbatim; do not edit. Regenerate with test/testdata/crds/update.sh."
		echo "# module: ${mod%@*}"
		echo "# version: ${mod#*@}"
		echo "# path: $path"
		cat "$dir/$path"
	} >"$here/$out"
	echo "$here/$out <- $mod $path" >&2
}

crds=pkg/k8s/apis/cilium.io/client/crds
vendor "$cilium" "$crds/v2/ciliumnodes.yaml" cilium.io_ciliumnodes.yaml
vendor "$cilium" "$crds/v2alpha1/ciliumgatewayclassconfigs.yaml" cilium.io_ciliumgatewayclassconfigs.yaml

for kind in certificates issuers clusterissuers; do
	vendor "$certmanager" "deploy/crds/cert-manager.io_$kind.yaml" "cert-manager.io_$kind.yaml"
done
