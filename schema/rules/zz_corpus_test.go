package rules

import (
	"flag"
	"testing"
)

// TestJudgeCorpus checks that the judge corpus holds exactly the cases the table tests
// recorded through judgeCase (UPDATE_GOLDEN=1 rewrites it). go test runs test files in name
// order, so this file's name puts it after every table test; a partial run skips it.
func TestJudgeCorpus(t *testing.T) {
	for _, f := range []string{"test.run", "test.skip", "test.shuffle"} {
		if v := flag.Lookup(f).Value.String(); v != "" && v != "off" {
			t.Skipf("-%s=%s: not every table case ran", f, v)
		}
	}
	if err := checkCorpus(); err != nil {
		t.Fatal(err)
	}
}
