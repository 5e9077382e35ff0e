// Package image tests `make image`: it runs the image builder (test/tools/image, its own Go
// module) twice into temporary directories and checks the OCI layout with plain JSON and the
// standard library (so the product's go.mod stays free of registry libraries): both platforms,
// reproducible digests, the files and user in the image, the CA bundle against the binary's
// fallback roots, the SBOMs, and the amd64 entrypoint run here. It also holds the rendered
// webhook and node-verify pods to the image's user.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/enigate/enigate/schema/release"
)

// descriptor, index, manifest and config are the parts of the OCI image spec read here.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	} `json:"platform"`
}

type index struct {
	MediaType   string            `json:"mediaType"`
	Manifests   []descriptor      `json:"manifests"`
	Annotations map[string]string `json:"annotations"`
}

type manifest struct {
	MediaType   string            `json:"mediaType"`
	Config      descriptor        `json:"config"`
	Layers      []descriptor      `json:"layers"`
	Annotations map[string]string `json:"annotations"`
}

type config struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant"`
	Created      string `json:"created"`
	Config       struct {
		User       string            `json:"User"`
		Entrypoint []string          `json:"Entrypoint"`
		Cmd        []string          `json:"Cmd"`
		Labels     map[string]string `json:"Labels"`
	} `json:"config"`
	RootFS struct {
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
}

type file struct {
	mode     int64
	uid, gid int
	mtime    time.Time
	dir      bool
	data     []byte
}

type platformImage struct {
	manifest manifest
	config   config
	files    map[string]file
}

type built struct {
	indexJSON []byte
	index     index
	digest    string // of the multi-arch index
	images    map[string]platformImage
	sboms     map[string][]byte
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(filepath.Dir(dir)) // test/image -> root
}

// buildImage runs the builder as `make image` does, into dir.
func buildImage(t *testing.T, root, dir string) built {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("go", "-C", filepath.Join(root, "test", "tools", "image"), "run", ".",
		"-repo", root, "-out", filepath.Join(dir, "image"), "-sbom", filepath.Join(dir, "sbom"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("image builder: %v\n%s", err, out)
	}
	t.Logf("image builder (%s):\n%s", time.Since(start).Round(time.Second), out)
	return readLayout(t, filepath.Join(dir, "image"), filepath.Join(dir, "sbom"))
}

func blob(t *testing.T, dir string, d descriptor) []byte {
	t.Helper()
	algo, hexSum, ok := strings.Cut(d.Digest, ":")
	if !ok || algo != "sha256" {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hexSum))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != hexSum || int64(len(b)) != d.Size {
		t.Fatalf("blob %s: content does not match its digest or size %d", d.Digest, d.Size)
	}
	return b
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func readLayout(t *testing.T, dir, sbomDir string) built {
	t.Helper()
	var b built
	var err error
	if b.indexJSON, err = os.ReadFile(filepath.Join(dir, "index.json")); err != nil {
		t.Fatal(err)
	}
	var top index
	decode(t, b.indexJSON, &top)
	if len(top.Manifests) != 1 || top.Manifests[0].MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Fatalf("index.json lists %d entries, want the one multi-arch image index: %s", len(top.Manifests), b.indexJSON)
	}
	if ref := top.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; ref != release.Version {
		t.Errorf("index.json ref.name %q, want %s (crane/oras/skopeo address the layout by it)", ref, release.Version)
	}
	b.digest = top.Manifests[0].Digest
	decode(t, blob(t, dir, top.Manifests[0]), &b.index)
	b.images = map[string]platformImage{}
	for _, d := range b.index.Manifests {
		if d.Platform == nil {
			t.Fatalf("index entry %s has no platform", d.Digest)
		}
		var pi platformImage
		decode(t, blob(t, dir, d), &pi.manifest)
		decode(t, blob(t, dir, pi.manifest.Config), &pi.config)
		pi.files = map[string]file{}
		for i, l := range pi.manifest.Layers {
			raw := blob(t, dir, l)
			readLayer(t, raw, pi.files, pi.config.RootFS.DiffIDs, i)
		}
		key := d.Platform.OS + "/" + d.Platform.Architecture
		if d.Platform.Variant != "" {
			key += "/" + d.Platform.Variant
		}
		b.images[key] = pi
	}
	b.sboms = map[string][]byte{}
	entries, err := os.ReadDir(sbomDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(sbomDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.sboms[e.Name()] = data
	}
	return b
}

// readLayer unpacks one gzip tar layer into files, checking it against the config's diff_id.
func readLayer(t *testing.T, gz []byte, files map[string]file, diffIDs []string, i int) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if i >= len(diffIDs) || diffIDs[i] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("layer %d: uncompressed digest is not the config's diff_id", i)
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[strings.TrimSuffix(h.Name, "/")] = file{mode: h.Mode, uid: h.Uid, gid: h.Gid, mtime: h.ModTime, dir: h.Typeflag == tar.TypeDir, data: data}
	}
	if !slices.IsSorted(names) {
		t.Errorf("layer %d: entries not sorted: %v", i, names)
	}
}

func git(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func TestImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds enigate for two platforms")
	}
	root := repoRoot(t)
	first := buildImage(t, root, t.TempDir())

	commit := git(t, root, "rev-parse", "HEAD")
	if git(t, root, "status", "--porcelain", "--untracked-files=no") != "" {
		commit += "-dirty"
	}
	epoch, err := strconv.ParseInt(git(t, root, "log", "-1", "--format=%ct"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		if epoch, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Unix(epoch, 0).UTC()
	wantAnnotations := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/enigate/enigate",
		"org.opencontainers.image.revision": commit,
		"org.opencontainers.image.version":  release.Version,
		"org.opencontainers.image.created":  created.Format(time.RFC3339),
	}
	user := fmt.Sprintf("%d:%d", release.UID, release.GID)

	t.Run("both platforms", func(t *testing.T) {
		var got []string
		for k := range first.images {
			got = append(got, k)
		}
		slices.Sort(got)
		if want := []string{"linux/amd64", "linux/arm64/v8"}; !slices.Equal(got, want) {
			t.Errorf("platforms %v, want %v", got, want)
		}
		for k, img := range first.images {
			if img.config.OS+"/"+img.config.Architecture != strings.Join(strings.Split(k, "/")[:2], "/") {
				t.Errorf("%s: config says %s/%s", k, img.config.OS, img.config.Architecture)
			}
		}
	})

	t.Run("labels and annotations", func(t *testing.T) {
		sets := map[string]map[string]string{"index": first.index.Annotations}
		for k, img := range first.images {
			sets[k+" manifest"] = img.manifest.Annotations
			sets[k+" config labels"] = img.config.Config.Labels
		}
		for name, got := range sets {
			for k, v := range wantAnnotations {
				if got[k] != v {
					t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
				}
			}
		}
	})

	t.Run("scratch, non-root, no shell", func(t *testing.T) {
		want := []string{"etc", "etc/group", "etc/passwd", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt",
			"usr", "usr/local", "usr/local/bin", "usr/local/bin/enigate"}
		for k, img := range first.images {
			var got []string
			for name, f := range img.files {
				got = append(got, name)
				if f.uid != 0 || f.gid != 0 || !f.mtime.Equal(created) {
					t.Errorf("%s: %s owned %d:%d at %s, want 0:0 at %s", k, name, f.uid, f.gid, f.mtime, created)
				}
				wantMode := int64(0o644)
				if f.dir || name == "usr/local/bin/enigate" {
					wantMode = 0o755
				}
				if f.mode != wantMode {
					t.Errorf("%s: %s mode %o, want %o", k, name, f.mode, wantMode)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s: files %v, want exactly %v (no shell, nothing else)", k, got, want)
			}
			c := img.config.Config
			if c.User != user || !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/enigate"}) || len(c.Cmd) != 0 {
				t.Errorf("%s: user %q entrypoint %v cmd %v, want %s, [/usr/local/bin/enigate], none", k, c.User, c.Entrypoint, c.Cmd, user)
			}
			passwd := string(img.files["etc/passwd"].data)
			if !strings.Contains(passwd, fmt.Sprintf(":x:%d:%d:", release.UID, release.GID)) {
				t.Errorf("%s: /etc/passwd lacks the user %s:\n%s", k, user, passwd)
			}
			if bin := img.files["usr/local/bin/enigate"].data; !static(t, bin) {
				t.Errorf("%s: the binary has an ELF interpreter (not static)", k)
			}
		}
	})

	t.Run("CA file is the binary's fallback bundle", func(t *testing.T) {
		inFile := map[string]bool{}
		rest := first.images["linux/amd64"].files["etc/ssl/certs/ca-certificates.crt"].data
		for {
			var blk *pem.Block
			blk, rest = pem.Decode(rest)
			if blk == nil {
				break
			}
			if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
				t.Fatalf("CA file: %v", err)
			}
			inFile[string(blk.Bytes)] = true
		}
		want := 0
		for r := range bundle.Roots() {
			if r.Constraint != nil {
				if inFile[string(r.Certificate)] {
					t.Error("CA file holds a root with a distrust-after constraint a PEM file cannot carry")
				}
				continue
			}
			want++
			if !inFile[string(r.Certificate)] {
				t.Errorf("CA file lacks a fallback root (%d bytes)", len(r.Certificate))
			}
		}
		if len(inFile) != want || want < 50 {
			t.Errorf("CA file has %d roots, the fallback bundle %d unconstrained", len(inFile), want)
		}
	})

	t.Run("SBOM per platform", func(t *testing.T) {
		for _, arch := range []string{"amd64", "arm64"} {
			name := "enigate-" + release.Version + "-linux-" + arch + ".spdx.json"
			var doc struct {
				SPDXVersion string `json:"spdxVersion"`
				Namespace   string `json:"documentNamespace"`
				Packages    []struct {
					Name      string `json:"name"`
					Version   string `json:"versionInfo"`
					Checksums []struct {
						Value string `json:"checksumValue"`
					} `json:"checksums"`
				} `json:"packages"`
			}
			data, ok := first.sboms[name]
			if !ok {
				t.Errorf("no SBOM %s beside the layout (have %v)", name, keys(first.sboms))
				continue
			}
			decode(t, data, &doc)
			key := "linux/" + arch
			if arch == "arm64" {
				key += "/v8"
			}
			sum := sha256.Sum256(first.images[key].files["usr/local/bin/enigate"].data)
			pkgs := map[string]string{}
			for _, p := range doc.Packages {
				pkgs[p.Name] = p.Version
			}
			if doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages[0].Checksums) != 1 || doc.Packages[0].Checksums[0].Value != hex.EncodeToString(sum[:]) {
				t.Errorf("%s: not an SPDX 2.3 document describing the image's binary (first package %+v)", name, doc.Packages[0])
			}
			for _, dep := range []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime", "github.com/cilium/ebpf", "golang.org/x/crypto/x509roots/fallback", "stdlib"} {
				if pkgs[dep] == "" {
					t.Errorf("%s: no package %s", name, dep)
				}
			}
			if pkgs["github.com/enigate/enigate/cmd/enigate"] != release.Version {
				t.Errorf("%s: enigate version %q, want %s", name, pkgs["github.com/enigate/enigate/cmd/enigate"], release.Version)
			}
		}
	})

	t.Run("entrypoint runs here", func(t *testing.T) {
		key := "linux/" + runtime.GOARCH
		if runtime.GOARCH == "arm64" {
			key += "/v8"
		}
		img, ok := first.images[key]
		if runtime.GOOS != "linux" || !ok {
			t.Skipf("no image for %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		bin := filepath.Join(t.TempDir(), "enigate")
		if err := os.WriteFile(bin, img.files["usr/local/bin/enigate"].data, 0o755); err != nil {
			t.Fatal(err)
		}
		home := t.TempDir()
		// No kubeconfig anywhere, not in a pod: what the image sees without a cluster.
		env := []string{"HOME=" + home, "PATH=/usr/local/bin"}
		run := func(args ...string) (string, string, int) {
			cmd := exec.Command(bin, args...)
			cmd.Env, cmd.Dir = env, home
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			return stdout.String(), stderr.String(), code
		}
		for _, args := range [][]string{{"version"}, {"--version"}} {
			out, errOut, code := run(args...)
			want := "enigate " + release.Version + "\ncommit: " + commit + "\ngo: "
			if code != 0 || !strings.HasPrefix(out, want) || errOut != "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want stdout starting %q", args, code, out, errOut, want)
			}
		}
		for _, overlay := range overlayImages(t, root) {
			if tag := imageTag(overlay.image); tag != release.Version {
				t.Errorf("%s deploys %s, tag %q is not this image's version %s", overlay.file, overlay.image, tag, release.Version)
			}
		}
		_, errOut, code := run("webhook", "--cert-dir", home, "--metrics-addr", "0", "--health-addr", "0")
		lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "enigate webhook: ") || strings.Contains(errOut, "panic") {
			t.Errorf("webhook without a cluster: exit %d, stderr %q; want exit 2 and one 'enigate webhook: ...' line", code, errOut)
		}
	})

	t.Run("rendered pods match the image's user", func(t *testing.T) {
		for _, o := range overlayImages(t, root) {
			spec, c := o.pod, o.container
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s: %s: want readOnlyRootFilesystem true and allowPrivilegeEscalation false, got %+v", o.file, c.Name, sc)
				continue
			}
			user, group, nonRoot := effective(spec.SecurityContext, sc)
			switch o.kind {
			case "Deployment":
				if user == nil || group == nil || nonRoot == nil || *user != release.UID || *group != release.GID || !*nonRoot {
					t.Errorf("%s: webhook runs as %v:%v nonRoot %v, want the image's %d:%d and runAsNonRoot", o.file, deref(user), deref(group), nonRoot, release.UID, release.GID)
				}
			case "DaemonSet":
				// Root for CAP_SYS_ADMIN (see generators/deploy/nodeverify.go), stated in full so
				// neither the image's uid nor its gid applies half-way.
				if user == nil || group == nil || nonRoot == nil || *user != 0 || *group != 0 || *nonRoot {
					t.Errorf("%s: node verify runs as %v:%v nonRoot %v, want an explicit 0:0 with runAsNonRoot false", o.file, deref(user), deref(group), nonRoot)
				}
				if sc.Privileged == nil || *sc.Privileged {
					t.Errorf("%s: node verify is privileged", o.file)
				}
			}
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		second := buildImage(t, root, t.TempDir())
		if second.digest != first.digest || !bytes.Equal(second.indexJSON, first.indexJSON) {
			t.Errorf("two builds of one commit differ: index %s vs %s", first.digest, second.digest)
		}
		for name, data := range first.sboms {
			if !bytes.Equal(second.sboms[name], data) {
				t.Errorf("SBOM %s differs between builds", name)
			}
		}
	})
}

func static(t *testing.T, bin []byte) bool {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func deref(p *int64) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// effective applies the container's security context over the pod's, as the kubelet does.
func effective(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) (user, group *int64, nonRoot *bool) {
	if pod != nil {
		user, group, nonRoot = pod.RunAsUser, pod.RunAsGroup, pod.RunAsNonRoot
	}
	if c.RunAsUser != nil {
		user = c.RunAsUser
	}
	if c.RunAsGroup != nil {
		group = c.RunAsGroup
	}
	if c.RunAsNonRoot != nil {
		nonRoot = c.RunAsNonRoot
	}
	return user, group, nonRoot
}

// imageTag is the tag of repository:tag[@digest].
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	return ref[i+1:]
}

type overlayContainer struct {
	file, kind, image string
	pod               corev1.PodSpec
	container         corev1.Container
}

// overlayImages reads enigate's workloads from every rendered overlay (committed; `enigate
// render --check` keeps them current).
func overlayImages(t *testing.T, root string) []overlayContainer {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "overlays", "*", "enigate", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rendered overlays/*/enigate/*.yaml (%v)", err)
	}
	var out []overlayContainer
	kinds := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, f)
		for _, doc := range strings.Split(string(data), "\n---\n") {
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			var spec corev1.PodSpec
			switch head.Kind {
			case "Deployment":
				var d appsv1.Deployment
				if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				spec = d.Spec.Template.Spec
			case "DaemonSet":
				var d appsv1.DaemonSet
				if err := yaml.UnmarshalStrict([]byte(doc), &d); err != nil {
					t.Fatalf("%s: %v", rel, err)
				}
				spec = d.Spec.Template.Spec
			default:
				continue
			}
			kinds[head.Kind]++
			for _, c := range append(spec.InitContainers, spec.Containers...) {
				out = append(out, overlayContainer{file: rel, kind: head.Kind, image: c.Image, pod: spec, container: c})
			}
		}
	}
	if kinds["Deployment"] == 0 || kinds["DaemonSet"] == 0 {
		t.Fatalf("rendered overlays hold %v, want the webhook Deployment and the node-verify DaemonSet", kinds)
	}
	return out
}
