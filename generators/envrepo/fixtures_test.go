package envrepo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/enigate/enigate/generators/manifest"
)

// Overlay fixtures: the dev environment as rendered before (v1) and after (v2) a change that
// moves a route's port, adds a hostname, widens RBAC, adds team-b and drops a legacy file.

const kustomizationV1 = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- namespaces.yaml
- rbac/platform.yaml
- gateway/gateway.yaml
- routes/team-a.yaml
- legacy/configmap.yaml
`

const kustomizationV2 = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- namespaces.yaml
- rbac/platform.yaml
- rbac/team-b.yaml
- gateway/gateway.yaml
- routes/team-a.yaml
`

const namespaces = `# Rendered by enigate from environment.cue. Do not edit.
apiVersion: v1
kind: Namespace
metadata:
  name: gateway-system
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
  labels:
    enigate.io/team: team-a
`

const platformRBACV1 = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: enigate-platform
rules:
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways", "httproutes"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: gateway-certificates
  namespace: gateway-system
rules:
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: ["shared-gateway-tls"]
  verbs: ["get"]
`

const platformRBACV2 = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: enigate-platform
rules:
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["gateways", "httproutes", "referencegrants"]
  verbs: ["get", "list", "watch", "create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: gateway-certificates
  namespace: gateway-system
rules:
- apiGroups: [""]
  resources: ["*"]
  verbs: ["get"]
`

const teamB = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: tenant
  namespace: team-b
rules:
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["httproutes"]
  verbs: ["get", "list", "create", "update", "delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: tenant
  namespace: team-b
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: tenant
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: team-b-developers
`

const gateway = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: gateway-system
spec:
  gatewayClassName: cilium
  infrastructure:
    annotations:
      service.beta.kubernetes.io/aws-load-balancer-type: external
      service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
  listeners:
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.dev.example.com"
    tls:
      certificateRefs:
      - name: shared-gateway-tls
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels:
            enigate.io/tenant: "true"
`

const routeV1 = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: team-a
spec:
  parentRefs:
  - name: shared
    namespace: gateway-system
    sectionName: https
  hostnames:
  - a.dev.example.com
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - name: web
      port: 8080
`

const routeV2 = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: team-a
spec:
  parentRefs:
  - name: shared
    namespace: gateway-system
    sectionName: https
  hostnames:
  - a.dev.example.com
  - www.a.dev.example.com
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - name: web
      port: 9090
`

const legacyConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: legacy-settings
  namespace: gateway-system
data:
  mode: legacy
`

func overlayV1() []manifest.File {
	return files(map[string]string{
		"kustomization.yaml":    kustomizationV1,
		"namespaces.yaml":       namespaces,
		"rbac/platform.yaml":    platformRBACV1,
		"gateway/gateway.yaml":  gateway,
		"routes/team-a.yaml":    routeV1,
		"legacy/configmap.yaml": legacyConfigMap,
	})
}

func overlayV2() []manifest.File {
	return files(map[string]string{
		"kustomization.yaml":   kustomizationV2,
		"namespaces.yaml":      namespaces,
		"rbac/platform.yaml":   platformRBACV2,
		"rbac/team-b.yaml":     teamB,
		"gateway/gateway.yaml": gateway,
		"routes/team-a.yaml":   routeV2,
	})
}

func files(m map[string]string) []manifest.File {
	var out []manifest.File
	for p, d := range m {
		out = append(out, manifest.File{Path: p, Data: []byte(d)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// isolateGit makes git ignore the machine's configuration and commit with a fixed identity
// and date, so hashes and messages are reproducible.
func isolateGit(t testing.TB) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "gitconfig")
	if err := os.WriteFile(cfg, []byte("[user]\n\tname = enigate test\n\temail = test@enigate.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL": cfg, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME": "enigate test", "GIT_AUTHOR_EMAIL": "test@enigate.invalid",
		"GIT_COMMITTER_NAME": "enigate test", "GIT_COMMITTER_EMAIL": "test@enigate.invalid",
		"GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z",
	} {
		t.Setenv(k, v)
	}
}

// gitIn runs git in dir and returns its trimmed stdout.
func gitIn(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// bareRepo creates an empty bare repository, the environment's remote.
func bareRepo(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "env.git")
	gitIn(t, t.TempDir(), "init", "--quiet", "--bare", dir)
	return dir
}

// tip returns the commit a branch of the bare repository points at, "" when absent.
func tip(t *testing.T, bare, branch string) string {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", bare, "rev-parse", "--verify", "--quiet", "refs/heads/"+branch).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// treeAt returns every file of a commit, path -> content.
func treeAt(t *testing.T, bare, rev string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range strings.Split(gitIn(t, bare, "ls-tree", "-r", "--name-only", rev), "\n") {
		if p != "" {
			data, err := exec.Command("git", "--git-dir", bare, "show", rev+":"+p).Output()
			if err != nil {
				t.Fatalf("git show %s:%s: %v", rev, p, err)
			}
			out[p] = string(data)
		}
	}
	return out
}

func asMap(fs []manifest.File, prefix string) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[prefix+f.Path] = string(f.Data)
	}
	return out
}

var ctx = context.Background()

// hook installs an executable hook script in the bare repository.
func hook(t *testing.T, bare, name, script string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(bare, "hooks", name), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}
