package helm

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/strvals"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// certManagerChart builds the cert-manager chart of version from the
// github.com/cert-manager/cert-manager module zip the way upstream's release does
// (make/manifests.mk, v1.19.1 and v1.21.2): deploy/charts/cert-manager holds the chart's
// metadata with v0.0.0 placeholders (Chart.template.yaml up to v1.20, Chart.yaml from v1.21) and
// README.template.md; the release copies values.yaml, values.schema.json and templates/
// unchanged, writes README.md with {{RELEASE_VERSION}} replaced, and writes Chart.yaml from
// the template with yq setting version, appVersion, the artifacthub.io/signKey annotation
// (signkey_annotation.txt) and artifacthub.io/prerelease (`git describe` has a "-"). The
// files are read into memory; the module cache is never written.
func certManagerChart(t *testing.T, version string) *chart.Chart {
	t.Helper()
	src := filepath.Join(moduleDir(t, "github.com/cert-manager/cert-manager", version), "deploy", "charts", "cert-manager")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatalf("cert-manager chart: %v", err)
		}
		return b
	}
	chartTemplate := "Chart.yaml"
	if _, err := os.Stat(filepath.Join(src, "Chart.template.yaml")); err == nil {
		chartTemplate = "Chart.template.yaml"
	}
	files := []*loader.BufferedFile{
		{Name: "Chart.yaml", Data: read(chartTemplate)},
		{Name: "README.md", Data: []byte(strings.ReplaceAll(string(read("README.template.md")), "{{RELEASE_VERSION}}", version))},
		{Name: "values.yaml", Data: read("values.yaml")},
		{Name: "values.schema.json", Data: read("values.schema.json")},
	}
	templates, err := os.ReadDir(filepath.Join(src, "templates"))
	if err != nil {
		t.Fatalf("cert-manager chart: %v", err)
	}
	for _, e := range templates {
		files = append(files, &loader.BufferedFile{Name: "templates/" + e.Name(), Data: read(filepath.Join("templates", e.Name()))})
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		t.Fatalf("load cert-manager chart %s: %v", src, err)
	}
	if ch.Metadata.Version != "v0.0.0" || ch.Metadata.AppVersion != "v0.0.0" {
		t.Fatalf("cert-manager %s: version %s, appVersion %s; want the v0.0.0 placeholders the release replaces", chartTemplate, ch.Metadata.Version, ch.Metadata.AppVersion)
	}
	ch.Metadata.Version = version
	ch.Metadata.AppVersion = version
	ch.Metadata.Annotations["artifacthub.io/signKey"] = string(read("signkey_annotation.txt"))
	ch.Metadata.Annotations["artifacthub.io/prerelease"] = map[bool]string{true: "true", false: "false"}[strings.Contains(version, "-")]
	if err := ch.Validate(); err != nil {
		t.Fatalf("cert-manager chart %s: %v", version, err)
	}
	return ch
}

// helmCommand is one `helm upgrade --install` of a rendered ROLLOUT.md.
type helmCommand struct {
	release, chart, version, namespace string
	createNamespace                    bool
	values                             map[string]any // from --set
}

// rolloutHelm reads the `helm upgrade --install <release>` command of overlay dir's ROLLOUT.md,
// so the tests install with exactly the version, namespace and --set values the rollout uses.
func rolloutHelm(t *testing.T, dir, release string) helmCommand {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "ROLLOUT.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	line := regexp.MustCompile(`(?m)^helm upgrade --install ` + regexp.QuoteMeta(release) + ` .*$`).FindString(text)
	if line == "" {
		t.Fatalf("%s/ROLLOUT.md: no `helm upgrade --install %s`", dir, release)
	}
	args := strings.Fields(line)[3:]
	cmd := helmCommand{release: args[0], chart: args[1], values: map[string]any{}}
	for i := 2; i < len(args); i++ {
		next := func() string {
			if i+1 >= len(args) {
				t.Fatalf("ROLLOUT.md: %s lacks its value in %q", args[i], line)
			}
			i++
			return args[i]
		}
		switch args[i] {
		case "--version":
			cmd.version = next()
		case "--namespace":
			cmd.namespace = next()
		case "--create-namespace":
			cmd.createNamespace = true
		case "--set":
			if err := strvals.ParseInto(next(), cmd.values); err != nil {
				t.Fatalf("ROLLOUT.md: --set in %q: %v", line, err)
			}
		case "--repo":
			next()
		case "--wait":
		default:
			t.Fatalf("ROLLOUT.md: flag %s of %q not understood by the test", args[i], line)
		}
	}
	return cmd
}

// certManagerRollout is the rollout's cert-manager command, checked against the declaration.
func certManagerRollout(t *testing.T, o overlay) helmCommand {
	t.Helper()
	cmd := rolloutHelm(t, o.dir, "cert-manager")
	if cmd.chart != "cert-manager" || cmd.version != o.env.Versions.CertManager || cmd.namespace != "cert-manager" || !cmd.createNamespace {
		t.Fatalf("ROLLOUT.md cert-manager command %+v, want chart cert-manager %s into namespace cert-manager (created)", cmd, o.env.Versions.CertManager)
	}
	return cmd
}

// certManagerCRDKinds are the custom resources of cert-manager; the AWS Load Balancer
// Controller's webhook certificate is a Certificate signed by an Issuer.
var certManagerCRDKinds = []string{"Certificate", "CertificateRequest", "Issuer", "ClusterIssuer", "Order", "Challenge"}

// certManagerCRDs renders the cert-manager chart as the rollout installs it and returns the
// CRDs it carries (crds.enabled).
func certManagerCRDs(t *testing.T, o overlay) []*unstructured.Unstructured {
	t.Helper()
	cmd := certManagerRollout(t, o)
	manifest, err := render(certManagerChart(t, cmd.version), cmd.release, cmd.namespace, cmd.values, kubeVersion(t, o.env), nil)
	if err != nil {
		t.Fatalf("helm template cert-manager: %v", err)
	}
	var out []*unstructured.Unstructured
	for _, x := range objects(t, manifest) {
		if x.GetKind() == "CustomResourceDefinition" {
			out = append(out, x)
		}
	}
	return out
}

// TestCertManagerChart renders the cert-manager chart of versions.certManager with the values
// of the rollout's command, twice, and checks the CRDs and images it carries.
func TestCertManagerChart(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o.name, func(t *testing.T) {
			cmd := certManagerRollout(t, o)
			first, err := render(certManagerChart(t, cmd.version), cmd.release, cmd.namespace, cmd.values, kubeVersion(t, o.env), nil)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			second, err := render(certManagerChart(t, cmd.version), cmd.release, cmd.namespace, cmd.values, kubeVersion(t, o.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if first != second {
				t.Errorf("two renders differ:\n%s", firstDiff(first, second))
			}
			objs := objects(t, first)
			kinds := map[string]bool{}
			for _, x := range objs {
				if x.GetKind() == "CustomResourceDefinition" {
					k, _, _ := unstructured.NestedString(x.Object, "spec", "names", "kind")
					kinds[k] = true
				}
			}
			for _, k := range certManagerCRDKinds {
				if !kinds[k] {
					t.Errorf("no CRD for %s rendered with %v (the rollout relies on the chart's own CRDs)", k, cmd.values)
				}
			}
			for _, d := range []string{"cert-manager", "cert-manager-webhook", "cert-manager-cainjector"} {
				dep := find(objs, "Deployment", d)
				if dep == nil {
					t.Errorf("no Deployment %s", d)
					continue
				}
				if dep.GetNamespace() != cmd.namespace {
					t.Errorf("Deployment %s in %q, want %q", d, dep.GetNamespace(), cmd.namespace)
				}
				containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
				image, _, _ := unstructured.NestedString(containers[0].(map[string]any), "image")
				if !strings.HasSuffix(image, ":"+cmd.version) {
					t.Errorf("Deployment %s runs %s, want tag %s (the chart's appVersion)", d, image, cmd.version)
				}
			}
		})
	}
}
