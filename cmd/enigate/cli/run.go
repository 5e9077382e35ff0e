// Package cli holds enigate's subcommands. Run is the whole program minus process wiring, so
// tests call it directly. Each subcommand lives in its own file and registers itself.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes shared by every subcommand.
const (
	ExitOK       = 0 // success, nothing to report
	ExitFindings = 1 // the command ran and found something: drift, stale files, changes, violations
	ExitError    = 2 // the command could not run: bad flags, bad input, environment problems
)

// exitError carries an exit code through Run's error return.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that ExitCode returns code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// findings returns an error that exits 1 with msg (already printed detail goes to stdout).
func findings(format string, args ...any) error {
	return withCode(ExitFindings, fmt.Errorf(format, args...))
}

// ExitCode maps Run's error to the process exit code: nil 0, findings 1, anything else 2.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	return ExitError
}

// command is one subcommand.
type command struct {
	name    string // may contain a space for two-word commands ("limits refresh")
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// Run executes one enigate invocation. Errors are printed to stderr here, once; the returned
// error carries the exit code (see ExitCode).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Run(ctx, []string{args[1], "--help"}, stdout, stderr)
		}
		usage(stdout)
		return nil
	}
	if args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	c, rest, ok := lookup(args)
	if !ok {
		usage(stderr)
		err := fmt.Errorf("unknown command %q", strings.Join(args[:min(2, len(args))], " "))
		fmt.Fprintln(stderr, "enigate:", err)
		return withCode(ExitError, err)
	}
	err := c.run(ctx, rest, stdout, stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) && err.Error() != "" {
		fmt.Fprintf(stderr, "enigate %s: %v\n", c.name, err)
	}
	return err
}

// lookup finds the longest registered command name that prefixes args.
func lookup(args []string) (command, []string, bool) {
	if len(args) >= 2 {
		if c, ok := commands[args[0]+" "+args[1]]; ok {
			return c, args[2:], true
		}
	}
	c, ok := commands[args[0]]
	return c, args[1:], ok
}

func usage(w io.Writer) {
	fmt.Fprint(w, `enigate renders, admits and verifies EKS clusters running Cilium in ENI mode
with the Gateway API, from one CUE declaration per environment.

Usage: enigate <command> [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-16s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Exit codes: 0 ok, 1 findings (stale files, drift, changes, violations), 2 could not run.
Run 'enigate <command> --help' for a command's flags; 'enigate --version' prints the version.
`)
}

// newFlags returns a FlagSet whose --help prints the command's description and flags to stdout.
func newFlags(name, synopsis, description string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: enigate %s\n\n%s\n", synopsis, strings.TrimSpace(description))
		var any bool
		fs.VisitAll(func(*flag.Flag) { any = true })
		if any {
			fmt.Fprintln(stdout, "\nFlags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(stderr)
		}
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and maps flag errors to
// exit code 2 (help to 0).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, withCode(ExitError, errors.New(""))
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
