package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Output formats. Every command that prints a report takes -o/--output with text (the default)
// and json; those that print objects also take yaml.
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
)

// outputFormat is the -o/--output flag: a value outside its set is a flag error (exit 2).
type outputFormat struct {
	value   string
	allowed []string
}

func (o *outputFormat) String() string { return o.value }
func (o *outputFormat) Type() string   { return "format" }
func (o *outputFormat) Set(v string) error {
	if !slices.Contains(o.allowed, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(o.allowed, ", "))
	}
	o.value = v
	return nil
}

// addOutputFlag adds -o/--output with the given formats; the first is the default.
func addOutputFlag(c *cobra.Command, formats ...string) *outputFormat {
	o := &outputFormat{value: formats[0], allowed: formats}
	c.Flags().VarP(o, "output", "o", "output format: "+strings.Join(formats, ", "))
	return o
}

// writeStructured prints v as indented JSON or as YAML (through its JSON form, so both show
// the same field names).
func writeStructured(w io.Writer, format string, v any) error {
	var b []byte
	var err error
	if format == formatYAML {
		b, err = yaml.Marshal(v)
	} else {
		b, err = json.MarshalIndent(v, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
