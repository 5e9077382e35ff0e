package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHelp walks the command tree: every command explains itself through
// 'enigate help PATH' and 'PATH --help' (stdout, exit 0, nothing on stderr), and a group
// command alone lists its subcommands.
func TestEveryCommandHelp(t *testing.T) {
	var walk func(c *cobra.Command)
	var paths [][]string
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.IsAvailableCommand() || s.Name() == "completion" {
				continue
			}
			paths = append(paths, strings.Fields(strings.TrimPrefix(s.CommandPath(), "enigate ")))
			walk(s)
		}
	}
	walk(newRoot())
	if len(paths) < 9 {
		t.Fatalf("found %d commands, want at least 9: %v", len(paths), paths)
	}
	for _, p := range paths {
		name := strings.Join(p, " ")
		for _, args := range [][]string{append([]string{"help"}, p...), append(append([]string{}, p...), "--help")} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				err := Run(context.Background(), args, &stdout, &stderr)
				if code := ExitCode(err); code != ExitOK || stderr.Len() > 0 {
					t.Fatalf("exit %d, stderr %q", code, stderr.String())
				}
				if !strings.Contains(stdout.String(), "enigate "+name) {
					t.Errorf("help does not show its usage line 'enigate %s':\n%s", name, stdout.String())
				}
			})
		}
	}
	for _, group := range []struct{ name, sub string }{{"node", "verify"}, {"limits", "refresh"}} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), []string{group.name}, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v", group.name, err)
		}
		if !strings.Contains(stdout.String(), "Available Commands:\n  "+group.sub) {
			t.Errorf("'enigate %s' does not list %s:\n%s", group.name, group.sub, stdout.String())
		}
	}
}

// TestUsageErrors: a usage problem is one line per problem on stderr, prefixed with the
// command, then a pointer to --help; stdout stays empty (so -o json output is never mixed
// with help) and the exit code is 2.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // stderr, exactly
	}{
		{name: "unknown flag", args: []string{"render", "--bogus", "-o", "json"},
			want: "enigate render: unknown flag: --bogus\nRun 'enigate render --help' for usage.\n"},
		{name: "unknown subcommand", args: []string{"node", "verfy"},
			want: "enigate node: unknown command \"verfy\" (one of: verify)\nRun 'enigate node --help' for usage.\n"},
		{name: "unknown command", args: []string{"rendr"},
			want: "enigate: unknown command \"rendr\" for \"enigate\"\nenigate: Did you mean this?\nenigate: \trender\nRun 'enigate --help' for usage.\n"},
		{name: "bad output format", args: []string{"node", "verify", "--values", "x", "--output", "yaml"},
			want: "enigate node verify: invalid argument \"yaml\" for \"-o, --output\" flag: \"yaml\" is not one of text, json\nRun 'enigate node verify --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Run(context.Background(), tt.args, &stdout, &stderr)
			if code := ExitCode(err); code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout not empty:\n%s", stdout.String())
			}
			if stderr.String() != tt.want {
				t.Errorf("stderr:\n%q\nwant:\n%q", stderr.String(), tt.want)
			}
		})
	}
}

// TestCompletion: cobra's completion scripts are generated for each shell.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), []string{"completion", shell}, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v %s", shell, err, stderr.String())
		}
		if !strings.Contains(stdout.String(), "enigate") {
			t.Errorf("%s completion does not mention enigate", shell)
		}
	}
}
