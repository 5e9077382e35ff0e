// Package writer is the only code in enigate that writes rendered files to disk. It makes a
// directory hold exactly a set of rendered files: each file replaced atomically (temp file +
// rename) and only when its bytes change, files no longer rendered removed, files the caller
// keeps (the declaration, .git) left alone.
package writer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/enigate/enigate/generators/manifest"
)

// Keep reports whether a path on disk (slash-separated, relative to the directory) belongs to
// the user rather than the renderer, so it is never removed or compared.
type Keep func(rel string) bool

// KeepOverlay keeps the declaration files of an overlay directory (*.cue) and hidden files.
func KeepOverlay(rel string) bool {
	return strings.HasSuffix(rel, ".cue") || isHidden(rel)
}

// KeepHidden keeps hidden files and directories (.git, .github, ...) of a repository checkout.
func KeepHidden(rel string) bool { return isHidden(rel) }

func isHidden(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

// Change is one difference between the directory and the rendered files.
type Change struct {
	Path string
	// Kind is "add", "update" or "remove".
	Kind string
}

func (c Change) String() string { return c.Kind + " " + c.Path }

// Plan compares dir with files and returns the changes Sync would make, sorted by path. A
// missing dir counts as empty. It writes nothing.
func Plan(dir string, files []manifest.File, keep Keep) ([]Change, error) {
	if err := validate(files); err != nil {
		return nil, err
	}
	want := make(map[string][]byte, len(files))
	for _, f := range files {
		want[f.Path] = f.Data
	}
	var changes []Change
	onDisk, err := list(dir, keep)
	if err != nil {
		return nil, err
	}
	for _, rel := range onDisk {
		data, ok := want[rel]
		if !ok {
			changes = append(changes, Change{Path: rel, Kind: "remove"})
			continue
		}
		cur, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		if !bytes.Equal(cur, data) {
			changes = append(changes, Change{Path: rel, Kind: "update"})
		}
		delete(want, rel)
	}
	for rel := range want {
		changes = append(changes, Change{Path: rel, Kind: "add"})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, nil
}

// Sync makes dir hold exactly files (plus what keep keeps) and returns what it changed. Every
// file is validated before the first write; each write is an atomic replace.
func Sync(dir string, files []manifest.File, keep Keep) ([]Change, error) {
	changes, err := Plan(dir, files, keep)
	if err != nil {
		return nil, err
	}
	data := make(map[string][]byte, len(files))
	for _, f := range files {
		data[f.Path] = f.Data
	}
	for _, c := range changes {
		target := filepath.Join(dir, filepath.FromSlash(c.Path))
		if c.Kind == "remove" {
			if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("remove %s: %w", c.Path, err)
			}
			removeEmptyParents(dir, filepath.Dir(target))
			continue
		}
		if err := writeAtomic(target, data[c.Path]); err != nil {
			return nil, fmt.Errorf("write %s: %w", c.Path, err)
		}
	}
	return changes, nil
}

// Read returns the files in dir that keep does not keep, sorted by path (what Sync manages).
func Read(dir string, keep Keep) ([]manifest.File, error) {
	paths, err := list(dir, keep)
	if err != nil {
		return nil, err
	}
	out := make([]manifest.File, 0, len(paths))
	for _, rel := range paths {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", rel, err)
		}
		out = append(out, manifest.File{Path: rel, Data: data})
	}
	return out, nil
}

// validate rejects paths that would escape the directory or collide.
func validate(files []manifest.File) error {
	seen := make(map[string]bool, len(files))
	var errs []error
	for _, f := range files {
		clean := path.Clean(f.Path)
		switch {
		case f.Path == "" || clean != f.Path || path.IsAbs(f.Path) || clean == "." || strings.HasPrefix(clean, "../"):
			errs = append(errs, fmt.Errorf("%q: not a clean relative path", f.Path))
		case seen[f.Path]:
			errs = append(errs, fmt.Errorf("%q: rendered twice", f.Path))
		}
		seen[f.Path] = true
	}
	return errors.Join(errs...)
}

// list returns the regular files under dir that keep does not keep, slash-separated and sorted.
func list(dir string, keep Keep) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if keep != nil && keep(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func writeAtomic(target string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), ".enigate-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// removeEmptyParents removes now-empty directories from d up to (not including) root.
func removeEmptyParents(root, d string) {
	root = filepath.Clean(root)
	for d = filepath.Clean(d); d != root && strings.HasPrefix(d, root); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			return
		}
	}
}
