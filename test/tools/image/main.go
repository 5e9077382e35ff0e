// Command image builds enigate's multi-arch OCI image without a container daemon: it
// cross-compiles ./cmd/enigate per platform (static, -trimpath), assembles each image from
// scratch with go-containerregistry (one base layer: passwd, group, CA bundle; one layer: the
// binary), writes an OCI image layout whose index.json names the multi-arch index, and an SPDX
// SBOM per platform from the binary's build info. Every byte derives from the commit: times
// are SOURCE_DATE_EPOCH (default: the commit time), tar entries are sorted with fixed owners
// and modes, so two builds of one commit with one Go toolchain give the same index digest.
//
// Usage (from the repository root, as `make image` does):
//
//	go -C test/tools/image run . -repo "$PWD" -out bin/image -sbom bin/sbom
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

const (
	mainModule  = "github.com/enigate/enigate"
	releasePkg  = mainModule + "/schema/release"
	releaseFile = "schema/release/release.go"
	fallbackMod = "golang.org/x/crypto/x509roots/fallback"
	sourceURL   = "https://github.com/enigate/enigate"
	entrypoint  = "/usr/local/bin/enigate"
	caFile      = "/etc/ssl/certs/ca-certificates.crt"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(2)
	}
}

type options struct {
	repo, out, sbom string
	platforms       []platform
	commit          string
	epoch           int64
}

type platform struct{ os, arch, variant string }

func (p platform) String() string { return p.os + "/" + p.arch }

// goEnv pins the per-architecture feature levels to the defaults, so a GOAMD64/GOARM64 in the
// caller's environment cannot change the bytes.
func (p platform) goEnv() []string {
	env := []string{"GOOS=" + p.os, "GOARCH=" + p.arch}
	switch p.arch {
	case "amd64":
		env = append(env, "GOAMD64=v1")
	case "arm64":
		env = append(env, "GOARM64=v8.0")
	}
	return env
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.repo, "repo", "", "repository root (default: the enigate module above the working directory)")
	fs.StringVar(&o.out, "out", "", "OCI image layout directory, replaced (default REPO/bin/image)")
	fs.StringVar(&o.sbom, "sbom", "", "directory for the SPDX SBOMs, one per platform (default REPO/bin/sbom)")
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "comma-separated platforms")
	fs.StringVar(&o.commit, "commit", "", "commit to record (default: git rev-parse HEAD, -dirty when the tree has changes)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.repo == "" {
		if o.repo, err = findRepo(); err != nil {
			return err
		}
	}
	if o.repo, err = filepath.Abs(o.repo); err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(o.repo, "bin", "image")
	}
	if o.sbom == "" {
		o.sbom = filepath.Join(o.repo, "bin", "sbom")
	}
	for _, s := range strings.Split(*platforms, ",") {
		osName, arch, ok := strings.Cut(s, "/")
		if !ok || osName != "linux" || (arch != "amd64" && arch != "arm64") {
			return fmt.Errorf("-platforms: %q is not linux/amd64 or linux/arm64", s)
		}
		p := platform{os: osName, arch: arch}
		if arch == "arm64" {
			p.variant = "v8"
		}
		o.platforms = append(o.platforms, p)
	}
	if o.commit == "" {
		if o.commit, err = gitCommit(o.repo); err != nil {
			return err
		}
	}
	if o.epoch, err = sourceDateEpoch(o.repo); err != nil {
		return err
	}
	return build(o, stdout)
}

// findRepo walks up from the working directory to the go.mod of the enigate module.
func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module "+mainModule+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("-repo: no go.mod of " + mainModule + " above the working directory")
		}
		dir = parent
	}
}

func gitCommit(repo string) (string, error) {
	rev, err := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if err != nil {
		return "", fmt.Errorf("commit: git rev-parse HEAD: %v (build from a git checkout or pass -commit)", err)
	}
	status, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		return "", fmt.Errorf("commit: git status: %v", err)
	}
	c := strings.TrimSpace(string(rev))
	if len(bytes.TrimSpace(status)) > 0 {
		c += "-dirty"
	}
	return c, nil
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH (reproducible-builds.org), else the commit time.
func sourceDateEpoch(repo string) (int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		out, err := exec.Command("git", "-C", repo, "log", "-1", "--format=%ct").Output()
		if err != nil {
			return 0, fmt.Errorf("SOURCE_DATE_EPOCH: unset and git log: %v", err)
		}
		s = strings.TrimSpace(string(out))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("SOURCE_DATE_EPOCH: %q is not a non-negative number of seconds", s)
	}
	return n, nil
}

// releaseFacts are the constants of schema/release, read from source: the builder is its own
// module and cannot import the product.
type releaseFacts struct {
	Version, Repository string
	UID, GID            int
}

func readRelease(repo string) (releaseFacts, error) {
	path := filepath.Join(repo, releaseFile)
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		return releaseFacts{}, err
	}
	consts := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						consts[n.Name] = lit.Value
					}
				}
			}
		}
	}
	var r releaseFacts
	var errs []error
	str := func(name string, dst *string) {
		v, err := strconv.Unquote(consts[name])
		if err != nil || v == "" {
			errs = append(errs, fmt.Errorf("%s: const %s is not a string literal", path, name))
		}
		*dst = v
	}
	num := func(name string, dst *int) {
		v, err := strconv.Atoi(consts[name])
		if err != nil || v <= 0 {
			errs = append(errs, fmt.Errorf("%s: const %s is not a positive integer literal (the image runs non-root)", path, name))
		}
		*dst = v
	}
	str("Version", &r.Version)
	str("Repository", &r.Repository)
	num("UID", &r.UID)
	num("GID", &r.GID)
	return r, errors.Join(errs...)
}

// checkBundleVersion makes sure the CA file written here comes from the bundle version the
// binary embeds: the product's go.mod and this module's must pin the same fallback version.
func checkBundleVersion(repo string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Version}}", fallbackMod)
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: go list -m in %s: %v", fallbackMod, repo, err)
	}
	product := strings.TrimSpace(string(out))
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("builder has no build info")
	}
	for _, d := range bi.Deps {
		if d.Path == fallbackMod {
			if d.Version != product {
				return "", fmt.Errorf("%s: the product requires %s, the image builder %s (set test/tools/image/go.mod to the product's version)", fallbackMod, product, d.Version)
			}
			return product, nil
		}
	}
	return "", fmt.Errorf("%s: not in the builder's build info", fallbackMod)
}

func build(o options, stdout io.Writer) error {
	rel, err := readRelease(o.repo)
	if err != nil {
		return err
	}
	bundleVersion, err := checkBundleVersion(o.repo)
	if err != nil {
		return err
	}
	created := time.Unix(o.epoch, 0).UTC()
	annotations := map[string]string{
		"org.opencontainers.image.source":   sourceURL,
		"org.opencontainers.image.revision": o.commit,
		"org.opencontainers.image.version":  rel.Version,
		"org.opencontainers.image.created":  created.Format(time.RFC3339),
		"org.opencontainers.image.title":    "enigate",
	}
	base, err := baseLayer(rel, bundleVersion, created)
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "enigate-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	sboms := map[string][]byte{}
	for _, p := range o.platforms {
		bin := filepath.Join(work, "enigate-"+p.os+"-"+p.arch)
		if err := goBuild(o.repo, p, o.commit, bin); err != nil {
			return err
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		bi, err := buildinfo.Read(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("%s: build info: %w", p, err)
		}
		if err := checkStatic(bi, p); err != nil {
			return err
		}
		sbom, err := spdx(bi, data, rel.Version, o.commit, p, created)
		if err != nil {
			return err
		}
		sboms["enigate-"+rel.Version+"-"+p.os+"-"+p.arch+".spdx.json"] = sbom
		img, err := platformImage(base, data, p, rel, annotations, created)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: p.os, Architecture: p.arch, Variant: p.variant}}})
	}
	idx = mutate.AppendManifests(idx, adds...)
	idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)

	// Write beside the target and swap, so a failed build never leaves half a layout.
	tmp := o.out + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	lp, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": rel.Version,
	})); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	// layout writes some blobs 0600 and others 0777&^umask: one mode for every file.
	if err := filepath.WalkDir(tmp, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chmod(path, 0o644)
	}); err != nil {
		return err
	}
	if err := os.RemoveAll(o.out); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.out); err != nil {
		return err
	}
	if err := os.MkdirAll(o.sbom, 0o755); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(sboms)) {
		if err := os.WriteFile(filepath.Join(o.sbom, name), sboms[name], 0o644); err != nil {
			return err
		}
	}

	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s:%s index %s (created %s, revision %s)\n", o.out, rel.Repository, rel.Version, digest, created.Format(time.RFC3339), o.commit)
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		fmt.Fprintf(stdout, "  %s/%s %s\n", d.Platform.OS, d.Platform.Architecture, d.Digest)
	}
	fmt.Fprintf(stdout, "%s: SPDX SBOM per platform\n", o.sbom)
	return nil
}

// goBuild cross-compiles ./cmd/enigate: static (no cgo), paths trimmed, no VCS stamp (the
// commit goes in by -X instead, so a dirty tree's status cannot differ between builds), and
// GOFLAGS cleared so the caller's environment does not change the bytes.
func goBuild(repo string, p platform, commit, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w -X "+releasePkg+".commit="+commit,
		"-o", out, "./cmd/enigate")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=", "GOEXPERIMENT=")
	cmd.Env = append(cmd.Env, p.goEnv()...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: go build ./cmd/enigate: %w", p, err)
	}
	return nil
}

// checkStatic reads back what the go command recorded: the platform asked for and no cgo.
func checkStatic(bi *buildinfo.BuildInfo, p platform) error {
	want := map[string]string{"GOOS": p.os, "GOARCH": p.arch, "CGO_ENABLED": "0", "-trimpath": "true"}
	for _, s := range bi.Settings {
		if w, ok := want[s.Key]; ok {
			if s.Value != w {
				return fmt.Errorf("%s: binary built with %s=%s, want %s", p, s.Key, s.Value, w)
			}
			delete(want, s.Key)
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("%s: build info lacks %v", p, slices.Sorted(maps.Keys(want)))
	}
	if bi.Path != mainModule+"/cmd/enigate" {
		return fmt.Errorf("%s: binary is %s, want %s/cmd/enigate", p, bi.Path, mainModule)
	}
	return nil
}

// entry is one file or directory in a layer.
type entry struct {
	name string // relative, no leading slash; directories end in "/"
	mode int64
	data []byte
}

// tarLayer writes entries sorted by name, owned by 0:0, with one timestamp, as gzip (level
// 9, no name or time in the gzip header).
func tarLayer(entries []entry, created time.Time) (v1.Layer, error) {
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, e := range entries {
		// USTAR suffices for these names and sizes and carries no extended records.
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: created, Format: tar.FormatUSTAR, Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	b := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// baseLayer is what every platform shares: the non-root user and the CA bundle.
func baseLayer(rel releaseFacts, bundleVersion string, created time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/:/sbin/nologin\n", rel.UID, rel.GID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", rel.GID)
	ca, err := caBundle(bundleVersion)
	if err != nil {
		return nil, err
	}
	return tarLayer([]entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: strings.TrimPrefix(caFile, "/"), mode: 0o644, data: ca},
	}, created)
}

// caBundle is the PEM form of the fallback bundle the binary embeds. Roots with a constraint
// (NSS distrust-after) are left out: a PEM file cannot carry the constraint, and Go prefers this
// file over the fallback pool when it exists.
func caBundle(version string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# NSS roots from %s %s without distrust-after roots; generated by test/tools/image.\n", fallbackMod, version)
	n := 0
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue
		}
		if err := pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}); err != nil {
			return nil, err
		}
		n++
	}
	if n < 50 {
		return nil, fmt.Errorf("%s: only %d unconstrained roots", fallbackMod, n)
	}
	return b.Bytes(), nil
}

func platformImage(base v1.Layer, binary []byte, p platform, rel releaseFacts, annotations map[string]string, created time.Time) (v1.Image, error) {
	binLayer, err := tarLayer([]entry{
		{name: "usr/", mode: 0o755},
		{name: "usr/local/", mode: 0o755},
		{name: "usr/local/bin/", mode: 0o755},
		{name: strings.TrimPrefix(entrypoint, "/"), mode: 0o755, data: binary},
	}, created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.arch, OS: p.os, Variant: p.variant,
		Created: v1.Time{Time: created},
		Config: v1.Config{
			// Numeric, so runAsNonRoot can be verified without reading /etc/passwd.
			User:       fmt.Sprintf("%d:%d", rel.UID, rel.GID),
			Entrypoint: []string{entrypoint},
			Env:        []string{"PATH=/usr/local/bin"},
			WorkingDir: "/",
			Labels:     annotations,
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "test/tools/image: /etc/passwd, /etc/group, " + caFile}},
		mutate.Addendum{Layer: binLayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "test/tools/image: go build -trimpath ./cmd/enigate -> " + entrypoint}},
	)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, annotations).(v1.Image), nil
}

// spdx is an SPDX 2.3 JSON document for one binary, from its Go build info: the binary, the Go
// standard library and every module linked in, with package URLs.
func spdx(bi *buildinfo.BuildInfo, binary []byte, version, commit string, p platform, created time.Time) ([]byte, error) {
	sum := sha256.Sum256(binary)
	hexSum := hex.EncodeToString(sum[:])
	type ref struct {
		Category string `json:"referenceCategory"`
		Type     string `json:"referenceType"`
		Locator  string `json:"referenceLocator"`
	}
	type checksum struct {
		Algorithm string `json:"algorithm"`
		Value     string `json:"checksumValue"`
	}
	type pkg struct {
		Name             string     `json:"name"`
		ID               string     `json:"SPDXID"`
		Version          string     `json:"versionInfo"`
		Download         string     `json:"downloadLocation"`
		FilesAnalyzed    bool       `json:"filesAnalyzed"`
		Checksums        []checksum `json:"checksums,omitempty"`
		LicenseConcluded string     `json:"licenseConcluded"`
		LicenseDeclared  string     `json:"licenseDeclared"`
		Copyright        string     `json:"copyrightText"`
		Purpose          string     `json:"primaryPackagePurpose,omitempty"`
		Comment          string     `json:"comment,omitempty"`
		Refs             []ref      `json:"externalRefs"`
	}
	type rel struct {
		From string `json:"spdxElementId"`
		Type string `json:"relationshipType"`
		To   string `json:"relatedSpdxElement"`
	}
	purl := func(path, v string) string {
		return "pkg:golang/" + path + "@" + v
	}
	qualifiers := "?goos=" + p.os + "&goarch=" + p.arch
	root := pkg{
		Name: bi.Path, ID: "SPDXRef-Package-enigate", Version: version,
		Download: "git+" + sourceURL + "@" + strings.TrimSuffix(commit, "-dirty"), FilesAnalyzed: false,
		Checksums:        []checksum{{"SHA256", hexSum}},
		LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", Copyright: "NOASSERTION",
		Purpose: "APPLICATION", Comment: "revision " + commit + "; " + p.String() + " binary " + entrypoint,
		Refs: []ref{{"PACKAGE-MANAGER", "purl", purl(bi.Main.Path, version) + qualifiers}},
	}
	pkgs := []pkg{root, {
		Name: "stdlib", ID: "SPDXRef-Package-stdlib", Version: bi.GoVersion, Download: "https://go.dev/dl/",
		LicenseConcluded: "NOASSERTION", LicenseDeclared: "BSD-3-Clause", Copyright: "NOASSERTION",
		Refs: []ref{{"PACKAGE-MANAGER", "purl", purl("stdlib", bi.GoVersion)}},
	}}
	rels := []rel{{"SPDXRef-DOCUMENT", "DESCRIBES", root.ID}, {root.ID, "DEPENDS_ON", "SPDXRef-Package-stdlib"}}
	for i, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		pk := pkg{
			Name: m.Path, ID: fmt.Sprintf("SPDXRef-Package-go-%d", i+1), Version: m.Version,
			Download:         "https://proxy.golang.org/" + m.Path + "/@v/" + m.Version + ".zip",
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", Copyright: "NOASSERTION",
			Refs: []ref{{"PACKAGE-MANAGER", "purl", purl(m.Path, m.Version)}},
		}
		if m.Sum != "" {
			pk.Comment = "go.sum " + m.Sum
		}
		pkgs = append(pkgs, pk)
		rels = append(rels, rel{root.ID, "DEPENDS_ON", pk.ID})
	}
	name := "enigate-" + version + "-" + p.os + "-" + p.arch
	doc := map[string]any{
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              name,
		"documentNamespace": sourceURL + "/spdx/" + name + "-" + hexSum,
		"creationInfo": map[string]any{
			"created":  created.Format(time.RFC3339),
			"creators": []string{"Tool: enigate test/tools/image (debug/buildinfo)"},
		},
		"packages":      pkgs,
		"relationships": rels,
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	return append(out, '\n'), err
}
