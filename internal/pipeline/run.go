package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/format"
	"github.com/opendts/opendts/internal/kafka"
	"github.com/opendts/opendts/internal/objects"
	"github.com/opendts/opendts/internal/source/binlog"
	"github.com/opendts/opendts/internal/store"
	"github.com/opendts/opendts/internal/task"
)

// Run runs the task described by spec until ctx ends (then it drains, saves
// its checkpoint and returns nil) or until an error stops it.
func Run(ctx context.Context, spec task.Spec, log *slog.Logger) error {
	log = log.With("task", spec.Name)
	if err := os.MkdirAll(spec.Checkpoint.Dir, 0o755); err != nil {
		return fmt.Errorf("create checkpoint dir: %w", err)
	}
	db, err := store.Open(filepath.Join(spec.Checkpoint.Dir, spec.Name+".db"))
	if err != nil {
		return err
	}
	defer db.Close()

	sel := objects.Compile(spec.Objects)
	src := SourceConfig(spec, sel)
	start, resumed, err := db.LoadCheckpoint(ctx, spec.Name)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if resumed {
		log.Info("resuming from checkpoint", "binlog_file", start.File, "binlog_pos", start.Offset, "gtid", start.GTIDSet)
	} else {
		value := spec.Start.Position
		if spec.Start.From == task.StartGTID {
			value = spec.Start.GTIDSet
		}
		start, err = binlog.ResolveStart(ctx, src, spec.Start.From, value)
		if err != nil {
			return fmt.Errorf("resolve start position (start.from %s): %w", spec.Start.From, err)
		}
		// Save the resolved start at once: a task killed before its first
		// checkpoint must resume here, not at a later "current" position.
		if err := db.SaveCheckpoint(ctx, spec.Name, start); err != nil {
			return fmt.Errorf("save start position: %w", err)
		}
		log.Info("starting", "from", spec.Start.From, "binlog_file", start.File, "binlog_pos", start.Offset, "gtid", start.GTIDSet)
	}

	enc, err := format.New(spec.Format)
	if err != nil {
		return fmt.Errorf("format: %w", err)
	}
	cl, err := kafka.NewClient(ctx, spec.Destination, log)
	if err != nil {
		return err
	}
	defer cl.Close()
	router, err := kafka.NewRouter(ctx, cl, spec.Destination)
	if err != nil {
		return err
	}

	reader, err := binlog.Open(ctx, src, start, log)
	if err != nil {
		return fmt.Errorf("open binlog: %w", err)
	}
	defer reader.Close()

	interval, _ := time.ParseDuration(spec.Checkpoint.Interval)
	loop := &Loop{
		Task:        spec.Name,
		Source:      reader,
		Select:      sel,
		Encoder:     enc,
		Router:      router,
		Producer:    cl,
		Checkpoints: db,
		Interval:    interval,
		Log:         log,
		Stats:       &Stats{},
	}
	loop.saved = start
	stop := reportProgress(ctx, log, loop.Stats)
	defer stop()
	return loop.Run(ctx)
}

// SourceConfig builds the binlog reader's configuration from a task.
func SourceConfig(spec task.Spec, sel *objects.Selector) binlog.Config {
	c := binlog.Config{
		Host:          spec.Source.Host,
		Port:          spec.Source.Port,
		User:          spec.Source.User,
		Password:      spec.Source.Password,
		TLS:           spec.Source.TLS != "disabled",
		TLSSkipVerify: spec.Source.TLS == "required",
		TLSCA:         spec.Source.CAFile,
		ServerID:      spec.Source.ServerID,
		Name:          spec.Name,
		Flavor:        cdc.Flavor(spec.Source.Flavor),
		Include:       sel.Table,
	}
	if spec.Source.TimeZone != "" {
		c.TimeZone, _ = time.LoadLocation(spec.Source.TimeZone) // validated by task.Spec
	}
	return c
}

// reportProgress logs throughput and latency every 10 seconds until stopped.
func reportProgress(ctx context.Context, log *slog.Logger, st *Stats) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		var last uint64
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				n := st.Events.Load()
				attrs := []any{"events", n, "events_per_sec", (n - last) / 10, "acked", st.Acked.Load()}
				if ms := st.LastCommit.Load(); ms > 0 {
					attrs = append(attrs, "latency_ms", time.Since(time.UnixMilli(ms)).Milliseconds())
				}
				log.Info("progress", attrs...)
				last = n
			}
		}
	}()
	return func() { cancel(); <-done }
}
