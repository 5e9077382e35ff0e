// Package rulestest holds the judge corpus: every table case of the rules' tests as the
// object JSON, cluster facts and verdict that rules.Judge gave. The rules' tests write it
// (testdata/judge-corpus.json, UPDATE_GOLDEN=1) and fail when it is stale; the webhook
// handler and `enigate check` replay it and must reach the same verdicts.
package rulestest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	gwv1b1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/enigate/enigate/schema/model"
)

// Corpus is the file's content.
type Corpus struct {
	// Policy is the policy every case is judged under.
	Policy model.Policy `json:"policy"`
	Cases  []Case       `json:"cases"`
}

// Case is one judged object.
type Case struct {
	// Name is the test that produced the case (t.Name()).
	Name       string          `json:"name"`
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Object     json.RawMessage `json:"object"`
	// Cluster holds the cluster facts; nil when the rules judged against the policy only.
	Cluster *Cluster `json:"cluster,omitempty"`
	// Errors are the denying field errors as text, Rules their rule names, Warnings the
	// advisories.
	Errors   []string `json:"errors"`
	Rules    []string `json:"rules"`
	Warnings []string `json:"warnings"`
}

// Cluster is what the cluster holds for a case: Gateways ("namespace/name") with their
// listener names, and ReferenceGrants.
type Cluster struct {
	Gateways map[string][]string     `json:"gateways"`
	Grants   []gwv1b1.ReferenceGrant `json:"grants"`
}

// Path is the corpus file, found from the working directory (a test's: its package directory)
// up to the module root, so it holds in binaries built with -trimpath.
func Path() string {
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil || filepath.Dir(dir) == dir {
			return filepath.Join(dir, "schema", "rules", "testdata", "judge-corpus.json")
		}
		dir = filepath.Dir(dir)
	}
}

// Load reads the corpus.
func Load() (*Corpus, error) {
	data, err := os.ReadFile(Path())
	if err != nil {
		return nil, fmt.Errorf("judge corpus: %w", err)
	}
	var c Corpus
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("judge corpus: %w", err)
	}
	if len(c.Cases) == 0 {
		return nil, fmt.Errorf("judge corpus %s: no cases", Path())
	}
	return &c, nil
}
