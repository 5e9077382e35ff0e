package envrepo

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/enigate/enigate/generators/manifest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func one(p, data string) []manifest.File { return []manifest.File{{Path: p, Data: []byte(data)}} }

// fieldLines renders an object change's fields as "path: change" lines.
func fieldLines(r *Report) []string {
	var out []string
	for _, o := range r.Objects {
		out = append(out, fmt.Sprintf("%s %s", o.Change, o.ObjectID))
		for _, f := range o.Fields {
			out = append(out, "  "+f.Path+": "+describeField(f))
		}
	}
	return out
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name     string
		old, new []manifest.File
		want     []string
		wantErr  string
	}{
		{
			name: "identical renders",
			old:  overlayV1(), new: overlayV1(),
		},
		{
			name: "object moved to another file is not an object change",
			old:  one("a.yaml", legacyConfigMap), new: one("b.yaml", legacyConfigMap),
		},
		{
			name: "apiVersion bump keeps identity",
			old:  one("r.yaml", "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: HTTPRoute\nmetadata: {name: web, namespace: team-a}\n"),
			new:  one("r.yaml", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: team-a}\n"),
			want: []string{"changed HTTPRoute.gateway.networking.k8s.io team-a/web", `  apiVersion: "gateway.networking.k8s.io/v1beta1" -> "gateway.networking.k8s.io/v1"`},
		},
		{
			name: "keys with dots quoted, named list items matched by name",
			old: one("d.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: enigate-webhook, namespace: enigate-system, labels: {app.kubernetes.io/name: webhook}}
spec:
  template:
    spec:
      containers:
      - {name: webhook, image: "enigate:v1"}
      - {name: sidecar, image: "proxy:1"}
`),
			new: one("d.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: enigate-webhook, namespace: enigate-system, labels: {app.kubernetes.io/name: admission}}
spec:
  template:
    spec:
      containers:
      - {name: sidecar, image: "proxy:1"}
      - {name: webhook, image: "enigate:v2"}
`),
			want: []string{
				"changed Deployment.apps enigate-system/enigate-webhook",
				`  metadata.labels["app.kubernetes.io/name"]: "webhook" -> "admission"`,
				`  spec.template.spec.containers[name=webhook].image: "enigate:v1" -> "enigate:v2"`,
			},
		},
		{
			name: "list items by position, added and removed",
			old:  one("n.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nspec: {finalizers: [kubernetes, x]}\n"),
			new:  one("n.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nspec: {finalizers: [kubernetes]}\nstatus: {}\n"),
			want: []string{"changed Namespace a", `  spec.finalizers[1]: removed "x"`, "  status: added {}"},
		},
		{
			name: "scalar lists diffed as insertions and removals",
			old:  one("k.yaml", kustomizationV1),
			new:  one("k.yaml", kustomizationV2),
			want: []string{
				"changed Kustomization.kustomize.config.k8s.io (file k.yaml)",
				`  resources[2]: added "rbac/team-b.yaml"`,
				`  resources[4]: removed "legacy/configmap.yaml"`,
			},
		},
		{
			name: "documents without a name are identified by file",
			old:  one("cilium/values.yaml", "routingMode: native\nipam: {mode: eni}\n"),
			new:  one("cilium/values.yaml", "routingMode: native\nipam: {mode: eni}\nbpf: {masquerade: true}\n"),
			want: []string{"changed file cilium/values.yaml", "  bpf: added {\"masquerade\":true}"},
		},
		{
			name: "non-YAML files compared by bytes",
			old:  one("README.md", "old"), new: one("README.md", "new"),
			want: []string{"changed file README.md"},
		},
		{
			name: "secret values redacted",
			old:  one("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {token: b2xk}\n"),
			new:  one("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {token: bmV3}\n"),
			want: []string{"changed Secret a/s", `  data.token: "(redacted)" -> "(redacted)"`},
		},
		{
			name:    "duplicate object",
			new:     []manifest.File{{Path: "a.yaml", Data: []byte(legacyConfigMap)}, {Path: "b.yaml", Data: []byte(legacyConfigMap)}},
			wantErr: "b.yaml: ConfigMap gateway-system/legacy-settings defined twice in the rendered files (also in a.yaml)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Compare(tt.old, tt.new)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(fieldLines(r), "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func role(kind, rules string) string {
	return "apiVersion: rbac.authorization.k8s.io/v1\nkind: " + kind + "\nmetadata: {name: r, namespace: team-a}\nrules:\n" + rules
}

func TestWidened(t *testing.T) {
	tests := []struct {
		name         string
		old, new     string
		want         []string
		wantWildcard bool
	}{
		{
			name: "narrowed is not widened",
			old:  role("Role", "- {apiGroups: [''], resources: [configmaps, secrets], verbs: [get, list]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n"),
		},
		{
			name: "rules regrouped without new grants",
			old:  role("Role", "- {apiGroups: [''], resources: [configmaps, secrets], verbs: [get]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n- {apiGroups: [''], resources: [secrets], verbs: [get]}\n"),
		},
		{
			name: "new verb",
			old:  role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [get]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [configmaps], verbs: [get, delete]}\n"),
			want: []string{`rules[0]: grants verbs [delete] on resources [configmaps] in apiGroup "" not granted before`},
		},
		{
			name: "new api group",
			old:  role("ClusterRole", "- {apiGroups: [gateway.networking.k8s.io], resources: [httproutes], verbs: [get]}\n"),
			new:  role("ClusterRole", "- {apiGroups: [gateway.networking.k8s.io, gateway.networking.x-k8s.io], resources: [httproutes], verbs: [get]}\n"),
			want: []string{`rules[0]: grants verbs [get] on resources [httproutes] in apiGroup "gateway.networking.x-k8s.io" not granted before`},
		},
		{
			name: "resourceNames dropped widens to every name",
			old:  role("Role", "- {apiGroups: [''], resources: [secrets], resourceNames: [tls], verbs: [get]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [secrets], verbs: [get]}\n"),
			want: []string{`rules[0]: grants verbs [get] on resources [secrets] in apiGroup "" not granted before`},
		},
		{
			name: "wildcard resource",
			old:  role("Role", "- {apiGroups: [''], resources: [secrets], verbs: [get]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: ['*'], verbs: [get]}\n"),
			want: []string{`rules[0]: wildcard: grants verbs [get] on resources [*] in apiGroup "" not granted before`}, wantWildcard: true,
		},
		{
			name: "wildcard verb already granted",
			old:  role("Role", "- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [secrets], verbs: ['*']}\n"),
		},
		{
			name: "subresource wildcard covers",
			old:  role("ClusterRole", "- {apiGroups: [apps], resources: ['*/scale'], verbs: [update]}\n"),
			new:  role("ClusterRole", "- {apiGroups: [apps], resources: [deployments/scale, deployments], verbs: [update]}\n"),
			want: []string{`rules[0]: grants verbs [update] on resources [deployments] in apiGroup "apps" not granted before`},
		},
		{
			name: "non-resource URLs",
			old:  role("ClusterRole", "- {nonResourceURLs: [/healthz], verbs: [get]}\n"),
			new:  role("ClusterRole", "- {nonResourceURLs: [/healthz, '/metrics*'], verbs: [get]}\n"),
			want: []string{`rules[0]: wildcard: grants verbs [get] on nonResourceURLs [/metrics*] not granted before`}, wantWildcard: true,
		},
		{
			name: "verbs and resources grouped by what is new",
			old:  platformRBACV1,
			new:  platformRBACV2,
			want: []string{
				`rules[0]: grants verbs [create] on resources [gateways httproutes] in apiGroup "gateway.networking.k8s.io"; verbs [get list watch create] on resources [referencegrants] in apiGroup "gateway.networking.k8s.io" not granted before`,
				`rules[0]: wildcard: grants verbs [get] on resources [*] in apiGroup "" not granted before`,
			},
			wantWildcard: true,
		},
		{
			name: "added role grants everything",
			new:  role("Role", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n"),
			want: []string{`rules[0]: grants verbs [get] on resources [pods] in apiGroup "" not granted before`},
		},
		{
			name: "unreadable old role grants nothing",
			old:  role("Role", "- {apiGroups: [''], resources: [pods], verbs: get}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n"),
			want: []string{`rules[0]: grants verbs [get] on resources [pods] in apiGroup "" not granted before`},
		},
		{
			name: "unreadable new role is called out",
			old:  role("Role", "- {apiGroups: [''], resources: [pods], verbs: [get]}\n"),
			new:  role("Role", "- {apiGroups: [''], resources: [pods], verbs: [get, 3]}\n"),
			want: []string{"is not readable as RBAC (json: cannot unmarshal number into Go struct field PolicyRule.rules.verbs of type string): review what it grants by hand"},
		},
		{
			name: "binding gains a subject",
			old:  "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r, namespace: team-a}\nroleRef: {kind: Role, name: tenant}\nsubjects: [{kind: Group, name: devs}]\n",
			new:  "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: r, namespace: team-a}\nroleRef: {kind: Role, name: tenant}\nsubjects: [{kind: Group, name: devs}, {kind: ServiceAccount, name: ci, namespace: team-b}]\n",
			want: []string{"subjects[1]: binds ServiceAccount team-b/ci"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old []manifest.File
			if tt.old != "" {
				old = one("rbac.yaml", tt.old)
			}
			r, err := Compare(old, one("rbac.yaml", tt.new))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			wild := false
			for _, w := range r.RBACWidened {
				got = append(got, w.Grants...)
				wild = wild || w.Wildcard
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || wild != tt.wantWildcard {
				t.Errorf("widened (wildcard %v):\n%s\nwant (wildcard %v):\n%s", wild, strings.Join(got, "\n"), tt.wantWildcard, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCheck(t *testing.T) {
	key := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----\n"
	cert := "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0N5Y2VydGlmaWNhdGVvbmx5MAoGCCqGSM49BAMCMA8x\n-----END CERTIFICATE-----\n"
	kubeconfig := "apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    client-key-data: " + b64(key) + "\n"
	wrapped := b64(key)
	var folded strings.Builder
	for len(wrapped) > 64 {
		folded.WriteString("    " + wrapped[:64] + "\n")
		wrapped = wrapped[64:]
	}
	folded.WriteString("    " + wrapped + "\n")
	tests := []struct {
		name  string
		files []manifest.File
		want  []string
	}{
		{name: "clean overlay", files: overlayV2()},
		{name: "certificate is not a key", files: one("ca.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca}\ndata:\n  ca.crt: |\n"+indent(cert)+"  ca.b64: "+b64(cert)+"\n")},
		{
			name:  "PEM key in a ConfigMap",
			files: one("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  key: |\n"+indent(key)),
			want:  []string{"cm.yaml.data.key: Forbidden: private key material"},
		},
		{
			name:  "base64 key folded over lines in the second document",
			files: one("cm.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData:\n  key: |\n"+folded.String()),
			want:  []string{"cm.yaml[1].binaryData.key: Forbidden: private key material"},
		},
		{
			name:  "kubeconfig with a key, base64 inside base64",
			files: one("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData:\n  kubeconfig: "+b64(kubeconfig)+"\n"),
			want:  []string{"cm.yaml.binaryData.kubeconfig: Forbidden: private key material"},
		},
		{
			name:  "key in a YAML comment",
			files: one("x.yaml", "# "+strings.ReplaceAll(key, "\n", "\n# ")+"\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"),
			want:  []string{"x.yaml: Forbidden: line 1: private key material"},
		},
		{
			name:  "key in a non-YAML file",
			files: one("keys/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n"),
			want:  []string{"keys/id_ed25519: Forbidden: line 1: private key material"},
		},
		{
			name:  "Secret with stringData",
			files: one("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team-a}\nstringData: {password: hunter2}\n"),
			want:  []string{"s.yaml.stringData: Forbidden: Secret team-a/db carries stringData"},
		},
		{
			name:  "Secret without data is a placeholder",
			files: one("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: team-a}\ntype: Opaque\n"),
		},
		{
			name:  "kustomize secretGenerator",
			files: one("kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nsecretGenerator:\n- name: db\n  literals: [password=hunter2]\n"),
			want:  []string{"kustomization.yaml.secretGenerator: Forbidden: kustomize secretGenerator"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Check(tt.files)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d problems %v, want %d %v", len(errs), errs, len(tt.want), tt.want)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, e.Error(), tt.want[i])
				}
			}
		})
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n    ") + "\n"
}

// FuzzCompareAndCheck feeds arbitrary YAML to the parser, the diff and the scanner: no panics.
func FuzzCompareAndCheck(f *testing.F) {
	f.Add(platformRBACV1, platformRBACV2)
	f.Add(routeV1, "- [a, {b: c}]\n")
	f.Add("kind: Role\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: 1}\nrules: x\n", "rules: [{verbs: 3}]")
	f.Fuzz(func(t *testing.T, a, b string) {
		// A file compared with itself never changes; comparing twice gives the same report.
		if r, err := Compare(one("a.yaml", b), one("a.yaml", b)); err == nil && (r.HasChanges() || len(r.Objects) > 0 || len(r.RBACWidened) > 0) {
			t.Errorf("a file compared with itself changes: %+v", r)
		}
		r1, err1 := Compare(one("a.yaml", a), one("a.yaml", b))
		r2, err2 := Compare(one("a.yaml", a), one("a.yaml", b))
		if (err1 == nil) != (err2 == nil) || err1 == nil && !reflect.DeepEqual(r1, r2) {
			t.Errorf("two comparisons differ: %v %v / %+v %+v", err1, err2, r1, r2)
		}
		if err1 == nil && (a == b) == r1.HasChanges() {
			t.Errorf("equal inputs %v, HasChanges %v", a == b, r1.HasChanges())
		}
		// Every refusal names the file.
		for _, e := range Check(one("a.yaml", b)) {
			if !strings.HasPrefix(e.Field, "a.yaml") {
				t.Errorf("refusal %q does not name the file", e.Error())
			}
		}
	})
}

func TestPhasedClusterConfigsAreDistinct(t *testing.T) {
	cfg := func(extra string) []byte {
		return []byte("apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: prod\n  region: ap-northeast-2\n" + extra)
	}
	files := []manifest.File{
		{Path: "eksctl/cluster.yaml", Data: cfg("addonsConfig:\n  disableDefaultAddons: true\n")},
		{Path: "eksctl/nodegroups.yaml", Data: cfg("managedNodeGroups: []\n")},
	}
	objs, errs := parseObjects(files, "the rendered files")
	if len(errs) > 0 {
		t.Fatalf("two phases of one cluster: %v", errs)
	}
	if len(objs) != 2 {
		t.Errorf("%d objects, want 2", len(objs))
	}
}
