package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/kafka"
)

// tailCmd prints the messages of a task's data and DDL topics, one per line
// prefixed by topic, partition and offset.
func tailCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", stderr)
	file := fs.String("f", "", "task file (YAML)")
	fromStart := fs.Bool("from-beginning", false, "start at the oldest retained message instead of new ones")
	n := fs.Int("n", 0, "stop after this many messages (0: no limit)")
	timeout := fs.Duration("timeout", 0, "stop when no message arrived for this long (0: never)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	spec, err := loadSpec(*file)
	if err != nil {
		return err
	}
	topics := []string{spec.Destination.Topic}
	if d := spec.Destination.DDLTopic; d != "" && d != spec.Destination.Topic {
		topics = append(topics, d)
	}
	offset := kgo.NewOffset().AtEnd()
	if *fromStart {
		offset = kgo.NewOffset().AtStart()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cl, err := kafka.NewConsumer(ctx, spec.Destination, log, offset, topics...)
	if err != nil {
		return err
	}
	defer cl.Close()
	count := 0
	for {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if *timeout > 0 {
			pctx, cancel = context.WithTimeout(ctx, *timeout)
		}
		fetches := cl.PollFetches(pctx)
		idle := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if idle && fetches.NumRecords() == 0 {
			if count == 0 {
				return fmt.Errorf("no message arrived within %s on %v", *timeout, topics)
			}
			return nil
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				ferr = fmt.Errorf("consume %s[%d]: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		stop := false
		fetches.EachRecord(func(r *kgo.Record) {
			if stop {
				return
			}
			fmt.Fprintf(stdout, "%s[%d]@%d %s\n", r.Topic, r.Partition, r.Offset, r.Value)
			count++
			stop = *n > 0 && count >= *n
		})
		if stop {
			return nil
		}
	}
}
