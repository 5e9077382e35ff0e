package datapath

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteJSON writes the report as one indented JSON document.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table, evidence indented under each check.
func WriteText(w io.Writer, r Report) error {
	fmt.Fprintf(w, "node %s (kernel %s), Cilium chart %s\n", r.Node, r.Kernel, r.ChartVersion)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tEXPECTED\tOBSERVED\tVALUES KEY")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Status, c.Name, c.Expected, c.Observed, c.ValuesKey)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nevidence:")
	for _, c := range r.Checks {
		if c.Evidence != "" && c.Status != Pass {
			fmt.Fprintf(w, "  %s: %s\n", c.Name, c.Evidence)
		}
	}
	_, err := fmt.Fprintf(w, "\n%d pass, %d fail, %d warn, %d skip\n", r.Summary.Pass, r.Summary.Fail, r.Summary.Warn, r.Summary.Skip)
	return err
}
