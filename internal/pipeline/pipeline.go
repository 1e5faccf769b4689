// Package pipeline runs one task: it reads change events from the source,
// keeps the selected ones, encodes them, produces them to Kafka and moves the
// task's checkpoint forward only past transactions whose every record Kafka
// has acknowledged. It owns the task loop and its goroutines; the libraries it
// joins (source, format, kafka, checkpoint, store) know nothing of each other.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/checkpoint"
	"github.com/opendts/opendts/internal/format"
	"github.com/opendts/opendts/internal/kafka"
)

// events is the source as the pipeline needs it. *binlog.Reader satisfies it.
type events interface {
	Next(ctx context.Context) (*cdc.Event, error)
}

// producer is the destination as the pipeline needs it. *kgo.Client
// satisfies it.
type producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
	Flush(ctx context.Context) error
}

// router decides where an event's message goes. *kafka.Router satisfies it.
type router interface {
	Route(ev *cdc.Event) (topic string, partition int32)
}

// checkpoints persists the safe position. *store.DB satisfies it.
type checkpoints interface {
	SaveCheckpoint(ctx context.Context, task string, p cdc.Position) error
}

// selector says which tables are selected. *objects.Selector satisfies it.
type selector interface {
	Table(schema, table string) bool
	Database(schema string) bool
}

// Stats are the task's counters, safe to read while the task runs.
type Stats struct {
	Events     atomic.Uint64 // row and DDL events produced
	Acked      atomic.Uint64 // records acknowledged by Kafka
	Bytes      atomic.Uint64 // message value bytes produced
	LastCommit atomic.Int64  // source time of the newest event seen, Unix ms
}

// Loop is one task's data path. Construct it with the parts it joins, then
// call Run once.
type Loop struct {
	Task        string
	Source      events
	Select      selector
	Encoder     format.Encoder
	Router      router
	Producer    producer
	Checkpoints checkpoints
	// Interval is how often the safe position is persisted.
	Interval time.Duration
	Log      *slog.Logger
	Stats    *Stats

	tracker *checkpoint.Tracker
	arena   []byte
	saved   cdc.Position
}

// arenaSize is the slab that record values are carved from, so that encoding
// does not allocate per message. A slab is freed by the GC once every record
// that points into it has been acknowledged.
const arenaSize = 64 << 10

// Run streams until ctx ends or an error occurs. On cancellation it drains:
// it stops reading, waits for Kafka to acknowledge what was produced, saves
// the checkpoint and returns nil.
func (l *Loop) Run(ctx context.Context) error {
	if l.Stats == nil {
		l.Stats = &Stats{}
	}
	if l.Interval <= 0 {
		l.Interval = time.Second
	}
	l.tracker = checkpoint.NewTracker()

	g, gctx := errgroup.WithContext(ctx)
	stopSaver := make(chan struct{})
	g.Go(func() error { return l.saveLoop(gctx, stopSaver) })
	g.Go(func() error {
		defer close(stopSaver)
		err := l.stream(gctx)
		// Drain whatever was produced, even when ctx was cancelled.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		if ferr := l.Producer.Flush(fctx); ferr != nil && err == nil {
			err = fmt.Errorf("flush kafka: %w", ferr)
		}
		return err
	})
	err := g.Wait()
	// Final save with whatever Kafka confirmed, even on error: it is safe.
	if serr := l.save(context.WithoutCancel(ctx)); serr != nil && err == nil {
		err = serr
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (l *Loop) stream(ctx context.Context) error {
	for {
		ev, err := l.Source.Next(ctx)
		if err != nil {
			return fmt.Errorf("read source: %w", err)
		}
		if err := l.tracker.Err(); err != nil {
			return fmt.Errorf("produce to kafka: %w", err)
		}
		switch ev.Op {
		case cdc.Commit:
			l.tracker.Commit(ev.Pos)
			continue
		case cdc.DDL:
			if !l.selectedDDL(ev) {
				continue
			}
		default:
			if ev.Table == nil || !l.Select.Table(ev.Table.Schema, ev.Table.Name) {
				continue
			}
		}
		if err := l.produce(ctx, ev); err != nil {
			return err
		}
	}
}

func (l *Loop) selectedDDL(ev *cdc.Event) bool {
	if ev.Table != nil {
		return l.Select.Table(ev.Table.Schema, ev.Table.Name)
	}
	return ev.Database != "" && l.Select.Database(ev.Database)
}

func (l *Loop) produce(ctx context.Context, ev *cdc.Event) error {
	if cap(l.arena)-len(l.arena) < 4<<10 {
		l.arena = make([]byte, 0, arenaSize)
	}
	start := len(l.arena)
	out, err := l.Encoder.AppendValue(l.arena, ev)
	if err != nil {
		return fmt.Errorf("encode %s event of %s at %s: %w", ev.Op, qualified(ev), ev.Pos, err)
	}
	var value []byte
	if sameArray(out, l.arena) {
		// Encoded in place: carve the message out of the slab.
		value = out[start:len(out):len(out)]
		l.arena = out
	} else {
		// Did not fit: the encoder grew a fresh buffer; keep it as is.
		value = out[start:]
	}
	topic, partition := l.Router.Route(ev)
	rec := &kgo.Record{Topic: topic, Partition: partition, Value: value}
	if !ev.Commit.IsZero() {
		rec.Timestamp = ev.Commit
		l.Stats.LastCommit.Store(ev.Commit.UnixMilli())
	}
	seq := l.tracker.Begin()
	l.Stats.Events.Add(1)
	l.Stats.Bytes.Add(uint64(len(value)))
	l.Producer.Produce(ctx, rec, func(r *kgo.Record, err error) {
		if err != nil {
			l.tracker.Fail(seq, describeFailure(ev, r, err))
			return
		}
		l.Stats.Acked.Add(1)
		l.tracker.Done(seq)
	})
	return nil
}

func (l *Loop) saveLoop(ctx context.Context, stop <-chan struct{}) error {
	t := time.NewTicker(l.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := l.tracker.Err(); err != nil {
				return fmt.Errorf("produce to kafka: %w", err)
			}
			if err := l.save(ctx); err != nil {
				return err
			}
		}
	}
}

// save persists the tracker's safe position if it moved. Only saveLoop and,
// after it has stopped, Run call it.
func (l *Loop) save(ctx context.Context) error {
	pos, ok := l.tracker.Safe()
	if !ok || pos == l.saved {
		return nil
	}
	if err := l.Checkpoints.SaveCheckpoint(ctx, l.Task, pos); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", pos, err)
	}
	l.saved = pos
	l.Log.Debug("checkpoint saved", "binlog_file", pos.File, "binlog_pos", pos.Offset, "gtid", pos.GTIDSet)
	return nil
}

// describeFailure names what could not be written: operation, table,
// primary key, size and destination, so an operator can find the row.
func describeFailure(ev *cdc.Event, r *kgo.Record, err error) error {
	what := fmt.Sprintf("%s of %s", ev.Op, qualified(ev))
	if key, ok := kafka.AppendKey(nil, kafka.PolicyPrimaryKey, ev); ok {
		what += fmt.Sprintf(" (primary key %s)", key)
	}
	return fmt.Errorf("write %s, %d bytes, to %s[%d] at source position %s: %w",
		what, len(r.Value), r.Topic, r.Partition, ev.Pos, err)
}

// sameArray reports whether a and b share their backing array, that is
// whether an append to a stayed within a's capacity.
func sameArray(a, b []byte) bool {
	return cap(a) > 0 && cap(a) == cap(b) && &a[:1][0] == &b[:1][0]
}

func qualified(ev *cdc.Event) string {
	if ev.Table != nil {
		return ev.Table.QualifiedName()
	}
	return ev.Database
}
