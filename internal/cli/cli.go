// Package cli implements the dts command line: run, validate, tail and
// version. It is the only package that wires concrete types together.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/opendts/opendts/internal/pipeline"
	"github.com/opendts/opendts/internal/task"
)

const usage = `dts streams a MySQL-family database into Kafka.

Usage:
  dts run -f task.yaml        run one task in the foreground until interrupted
  dts validate -f task.yaml   check a task file and print every problem with its fix
  dts tail -f task.yaml       print the task's Kafka messages (-from-beginning, -n, -timeout)
  dts verify -f task.yaml     compare the topic's newest row per key with the source tables (exit 1 on mismatch)
  dts version                 print the version

Flags of run: -log-level debug|info|warn|error, -log-format text|json.
Task file fields: docs/task-file.md.
`

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stderr)
	case "validate":
		err = validateCmd(args[1:], stdout, stderr)
	case "tail":
		err = tailCmd(ctx, args[1:], stdout, stderr)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout, stderr)
		if errors.Is(err, errMismatch) {
			return 1
		}
	case "version":
		fmt.Fprintln(stdout, "dts", version())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "dts: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "dts %s: %v\n", args[0], err)
			return 2
		}
		fmt.Fprintf(stderr, "dts %s: %v\n", args[0], indentJoined(err))
		return 1
	}
	return 0
}

type usageError struct{ error }

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dts "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func loadSpec(path string) (task.Spec, error) {
	if path == "" {
		return task.Spec{}, usageError{errors.New("-f task.yaml is required")}
	}
	return task.Load(path)
}

func runCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	file := fs.String("f", "", "task file (YAML)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for performance work)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	log, err := newLogger(stderr, *level, *logFormat)
	if err != nil {
		return usageError{err}
	}
	spec, err := loadSpec(*file)
	if err != nil {
		return err
	}
	if err := pipeline.Run(ctx, spec, log); err != nil {
		return err
	}
	log.Info("stopped", "task", spec.Name)
	return nil
}

func validateCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", stderr)
	file := fs.String("f", "", "task file (YAML)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	spec, err := loadSpec(*file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "task %s is valid\n", spec.Name)
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("-log-format %q: use text or json", format)
}

// indentJoined prints errors.Join'ed problems one per line.
func indentJoined(err error) string {
	s := err.Error()
	if !strings.Contains(s, "\n") {
		return s
	}
	return "\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
