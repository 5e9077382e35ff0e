#!/usr/bin/env bash
# build.sh OUTDIR — build kube-apiserver and etcd from source (Go module proxy) into OUTDIR,
# skipping each binary that is already there. Progress goes to stderr; the absolute OUTDIR is
# the only line on stdout, so callers can do: export KUBEBUILDER_ASSETS=$(test/tools/build.sh DIR)
#
# Versions are pinned by the go.mod/go.sum of test/tools/kube-apiserver and test/tools/etcd;
# key OUTDIR by the Kubernetes version (e.g. bin/k8s/1.36.3) so a bump builds afresh.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

# Both modules commit go.sum and go builds with -mod=readonly by default, so nothing is
# resolved here: only downloads of the pinned versions through GOPROXY.
export CGO_ENABLED=0

# module_version DIR MODULE prints the version DIR's go.mod requires for MODULE.
module_version() {
	(cd "$1" && go list -m -f '{{.Version}}' "$2")
}

# build NAME MODULE_DIR PACKAGE [go build flags...]
build() {
	local name=$1 dir=$2 pkg=$3
	shift 3
	if [[ -x "$out/$name" ]]; then
		echo "envtest assets: $out/$name exists, skipping" >&2
		return
	fi
	echo "envtest assets: building $name ($pkg) into $out ..." >&2
	local start=$SECONDS
	(cd "$dir" && go build -trimpath -buildvcs=false "$@" -o "$out/$name.tmp" "$pkg")
	mv "$out/$name.tmp" "$out/$name"
	echo "envtest assets: built $name in $((SECONDS - start))s" >&2
}

k8s_version=$(module_version "$tools_dir/kube-apiserver" k8s.io/kubernetes)
k8s_minor=${k8s_version#v}
k8s_major=${k8s_minor%%.*}
k8s_minor=${k8s_minor#*.}
k8s_minor=${k8s_minor%%.*}
vpkg=k8s.io/component-base/version
build kube-apiserver "$tools_dir/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver \
	-ldflags "-s -w -X $vpkg.gitVersion=$k8s_version -X $vpkg.gitMajor=$k8s_major -X $vpkg.gitMinor=$k8s_minor -X $vpkg.gitTreeState=clean"

etcd_version=$(module_version "$tools_dir/etcd" go.etcd.io/etcd/server/v3)
build etcd "$tools_dir/etcd" . \
	-ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version"

echo "$out"
