// Package cli holds enigate's command tree (cobra, as kubectl, helm, eksctl and timoni use).
// Run is the whole program minus process wiring, so tests call it directly. Each command lives
// in its own file as a constructor (newXCmd); root.go assembles the tree.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0 // success, nothing to report
	ExitFindings = 1 // the command ran and found something: drift, stale files, changes, violations
	ExitError    = 2 // the command could not run: bad flags, bad input, environment problems
)

// exitError carries an exit code through Run's error return.
type exitError struct {
	code  int
	err   error
	usage bool // a problem with the command line: Run points at --help
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

// usageError is a problem with the command line itself: exit 2, with a pointer to --help.
func usageError(err error) error { return &exitError{code: ExitError, err: err, usage: true} }

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

// Run executes one enigate invocation. Help goes to stdout; errors are printed to stderr here,
// once, as "enigate <command>: <error>" (never the whole usage, so stdout stays clean for
// -o json); the returned error carries the exit code (see ExitCode).
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil || err.Error() == "" {
		return err
	}
	if cmd == nil {
		cmd = root
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// cobra's own errors: unknown command or flag, missing flag value.
		ee = &exitError{code: ExitError, err: err, usage: true}
		err = ee
	}
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), line)
		}
	}
	if ee.usage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return err
}

// expect returns an Args validator that reports every usage problem at once: the positional
// arguments (checked by positional, nil for none allowed) and each required flag left unset.
func expect(positional func(args []string) error, required ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		var problems []error
		if positional == nil && len(args) > 0 {
			problems = append(problems, fmt.Errorf("unexpected arguments %q", args))
		} else if positional != nil {
			if err := positional(args); err != nil {
				problems = append(problems, err)
			}
		}
		for _, name := range required {
			if !c.Flags().Changed(name) {
				problems = append(problems, fmt.Errorf("--%s: required", name))
			}
		}
		if len(problems) > 0 {
			return usageError(errors.Join(problems...))
		}
		return nil
	}
}

// noArgs rejects positional arguments.
var noArgs = expect(nil)

// groupCmd is a command that only holds subcommands: alone it prints its help, with an
// unknown subcommand it fails naming the ones it has.
func groupCmd(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			var names []string
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			return usageError(fmt.Errorf("unknown command %q (one of: %s)", args[0], strings.Join(names, ", ")))
		},
	}
	c.AddCommand(subs...)
	return c
}
