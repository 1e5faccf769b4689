package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/cdc"
)

// script is a source that replays events, then blocks until ctx ends.
type script struct{ evs []*cdc.Event }

func (s *script) Next(ctx context.Context) (*cdc.Event, error) {
	if len(s.evs) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ev := s.evs[0]
	s.evs = s.evs[1:]
	return ev, nil
}

// heldProducer keeps promises until released, to ack in any order.
type heldProducer struct {
	mu      sync.Mutex
	pending []func()
	records []*kgo.Record
	fail    error
}

func (p *heldProducer) Produce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = append(p.records, r)
	err := p.fail
	p.pending = append(p.pending, func() { promise(r, err) })
}

// ack releases the promises at the given indexes.
func (p *heldProducer) ack(idx ...int) {
	p.mu.Lock()
	fns := make([]func(), 0, len(idx))
	for _, i := range idx {
		fns = append(fns, p.pending[i])
	}
	p.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

func (p *heldProducer) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.records)
}

func (p *heldProducer) Flush(context.Context) error { return nil }

type memStore struct {
	mu    sync.Mutex
	saved []cdc.Position
}

func (m *memStore) SaveCheckpoint(_ context.Context, _ string, p cdc.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, p)
	return nil
}

func (m *memStore) last() cdc.Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.saved) == 0 {
		return cdc.Position{}
	}
	return m.saved[len(m.saved)-1]
}

type allTables struct{}

func (allTables) Table(schema, _ string) bool { return schema != "skip" }
func (allTables) Database(schema string) bool { return schema != "skip" }

type constRouter struct{}

func (constRouter) Route(*cdc.Event) (string, int32) { return "t", 0 }

type textEncoder struct{}

func (textEncoder) AppendValue(dst []byte, ev *cdc.Event) ([]byte, error) {
	return append(dst, ev.Op.String()...), nil
}

var tbl = &cdc.Table{Schema: "db", Name: "t", Columns: []cdc.Column{{Name: "id", Type: cdc.Int}}, PK: []int{0}}
var skipped = &cdc.Table{Schema: "skip", Name: "t", Columns: tbl.Columns, PK: []int{0}}

func row(op cdc.Op, t *cdc.Table) *cdc.Event {
	return &cdc.Event{Op: op, Table: t, After: cdc.Row{cdc.IntValue(1)}, Commit: time.Unix(1700000000, 0)}
}

func commit(off uint64) *cdc.Event {
	return &cdc.Event{Op: cdc.Commit, Pos: cdc.Position{File: "bin.000001", Offset: off}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCheckpointOnlyAfterAck(t *testing.T) {
	src := &script{evs: []*cdc.Event{
		row(cdc.Insert, tbl), row(cdc.Update, tbl), commit(100), // tx 1: records 0, 1
		row(cdc.Insert, skipped), commit(200), // tx 2: nothing selected
		row(cdc.Delete, tbl), commit(300), // tx 3: record 2
	}}
	prod, st := &heldProducer{}, &memStore{}
	l := &Loop{Task: "x", Source: src, Select: allTables{}, Encoder: textEncoder{}, Router: constRouter{},
		Producer: prod, Checkpoints: st, Interval: time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()

	waitFor(t, "3 records", func() bool { return prod.count() == 3 })
	prod.ack(2, 1) // out of order; record 0 still in flight
	time.Sleep(20 * time.Millisecond)
	if got := st.last(); !got.IsZero() {
		t.Fatalf("checkpoint moved to %v before record 0 was acked", got)
	}
	prod.ack(0)
	waitFor(t, "checkpoint at 300", func() bool { return st.last().Offset == 300 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
	for i, r := range prod.records {
		if want := []string{"INSERT", "UPDATE", "DELETE"}[i]; string(r.Value) != want {
			t.Errorf("record %d = %q, want %q", i, r.Value, want)
		}
	}
}

func TestProduceFailureStopsTask(t *testing.T) {
	src := &script{evs: []*cdc.Event{row(cdc.Insert, tbl), commit(100), row(cdc.Insert, tbl), commit(200)}}
	prod, st := &heldProducer{fail: errors.New("boom")}, &memStore{}
	l := &Loop{Task: "x", Source: src, Select: allTables{}, Encoder: textEncoder{}, Router: constRouter{},
		Producer: prod, Checkpoints: st, Interval: time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error)
	go func() { done <- l.Run(context.Background()) }()
	waitFor(t, "2 records", func() bool { return prod.count() == 2 })
	prod.ack(0, 1)
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after a failed produce")
		}
		for _, want := range []string{"boom", "INSERT of db.t", "primary key 1", "t[0]"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop after a failed produce")
	}
	if got := st.last(); !got.IsZero() {
		t.Fatalf("checkpoint moved to %v past a failed record", got)
	}
}

func TestArenaValuesDoNotAlias(t *testing.T) {
	var evs []*cdc.Event
	for range 10000 {
		evs = append(evs, row(cdc.Insert, tbl), row(cdc.Delete, tbl))
	}
	prod := &heldProducer{}
	l := &Loop{Task: "x", Source: &script{evs: evs}, Select: allTables{}, Encoder: textEncoder{}, Router: constRouter{},
		Producer: prod, Checkpoints: &memStore{}, Interval: time.Hour, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	waitFor(t, "all records", func() bool { return prod.count() == len(evs) })
	cancel()
	<-done
	for i, r := range prod.records {
		want := "INSERT"
		if i%2 == 1 {
			want = "DELETE"
		}
		if string(r.Value) != want {
			t.Fatalf("record %d = %q, want %q (values alias each other)", i, r.Value, want)
		}
	}
}
