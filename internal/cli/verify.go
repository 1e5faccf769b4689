package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/opendts/opendts/internal/verify"
)

// errMismatch makes `dts verify` exit 1 without repeating the report.
var errMismatch = errors.New("the topic does not match the source")

// verifyCmd compares the task's topic with its source tables and prints a
// summary per table; the exit status is 1 when anything differs.
func verifyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", stderr)
	file := fs.String("f", "", "task file (YAML)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	spec, err := loadSpec(*file)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := verify.Run(ctx, spec, log)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TABLE\tSOURCE ROWS\tTOPIC ROWS\tMISSING\tEXTRA\tDIFFERENT\t")
	for _, t := range rep.Tables {
		name := t.Schema + "." + t.Table
		if t.NoKey {
			name += " (no primary key: counts only)"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t\n", name, t.SourceRows, t.TopicRows, t.Missing, t.Extra, t.Different)
	}
	w.Flush()
	for _, t := range rep.Tables {
		for _, s := range t.Samples {
			fmt.Fprintf(stdout, "  %s.%s: %s\n", t.Schema, t.Table, s)
		}
	}
	if n := rep.Differences(); n > 0 {
		fmt.Fprintf(stdout, "%d rows differ\n", n)
		return errMismatch
	}
	fmt.Fprintln(stdout, "topic and source match")
	return nil
}
