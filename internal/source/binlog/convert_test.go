package binlog

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"

	"github.com/opendts/opendts/internal/cdc"
)

// eventFeed builds binlog events with consecutive positions in one file.
type eventFeed struct {
	pos uint32
	out []*replication.BinlogEvent
}

func (f *eventFeed) add(ev replication.Event, size uint32) *replication.BinlogEvent {
	f.pos += size
	e := &replication.BinlogEvent{Header: &replication.EventHeader{Timestamp: 1714528800, ServerID: 7,
		EventSize: size, LogPos: f.pos}, Event: ev}
	f.out = append(f.out, e)
	return e
}

func (f *eventFeed) gtid(sid uuid.UUID, gno int64) {
	f.add(&replication.GTIDEvent{SID: sid[:], GNO: gno}, 65)
}
func (f *eventFeed) query(schema, q string) {
	f.add(&replication.QueryEvent{Schema: []byte(schema), Query: []byte(q)}, uint32(60+len(q)))
}
func (f *eventFeed) xid() { f.add(&replication.XIDEvent{XID: 1}, 31) }

// summarize renders events as "OP@offset gtid set" lines.
func summarize(evs []cdc.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "%s@%s:%d %s", ev.Op, ev.Pos.File, ev.Pos.Offset, ev.Pos.GTID)
		if ev.Op == cdc.Commit {
			fmt.Fprintf(&b, " set=%s", ev.Pos.GTIDSet)
		}
		if ev.Op == cdc.DDL {
			tbl := "-"
			if ev.Table != nil {
				tbl = ev.Table.Name
			}
			fmt.Fprintf(&b, " %s.%s seq=%d", ev.Database, tbl, ev.TxSeq)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func newTestConverter(t *testing.T, flavor cdc.Flavor, start cdc.Position) (*converter, chan []cdc.Event) {
	t.Helper()
	var gset mysql.GTIDSet
	if start.GTIDSet != "" {
		var err error
		if gset, err = mysql.ParseGTIDSet(string(flavor), start.GTIDSet); err != nil {
			t.Fatal(err)
		}
	}
	env := tableEnv{flavor: flavor, include: func(string, string) bool { return true }}
	c := newConverter(env, time.UTC, slog.New(slog.NewTextHandler(io.Discard, nil)), start, gset)
	out := make(chan []cdc.Event, 100)
	c.out, c.stop = out, make(chan struct{})
	return c, out
}

func drain(t *testing.T, c *converter, out chan []cdc.Event, evs []*replication.BinlogEvent) []cdc.Event {
	t.Helper()
	for _, e := range evs {
		if err := c.HandleEvent(e); err != nil {
			t.Fatal(err)
		}
	}
	var got []cdc.Event
	for len(out) > 0 {
		got = append(got, <-out...)
	}
	return got
}

func TestConverterMySQL(t *testing.T) {
	sid := uuid.MustParse("3e11fa47-71ca-11e1-9e33-c80aa9429562")
	c, out := newTestConverter(t, cdc.MySQL, cdc.Position{File: "bin.000001", Offset: 4, GTIDSet: sid.String() + ":1-4"})
	f := &eventFeed{pos: 4}
	f.gtid(sid, 5) // 4-69
	f.query("db", "BEGIN")
	f.xid()
	f.gtid(sid, 6)
	f.query("db", "ALTER TABLE t ADD c int")
	f.gtid(uuid.UUID{}, 0) // anonymous
	f.query("db", "BEGIN")
	f.xid()
	f.gtid(sid, 7)
	payload := &replication.TransactionPayloadEvent{}
	inner := &eventFeed{}
	inner.query("db", "BEGIN")
	inner.xid()
	for _, e := range inner.out {
		e.Header.LogPos = 0
	}
	payload.Events = inner.out
	f.add(payload, 200)
	f.add(&replication.RotateEvent{NextLogName: []byte("bin.000002"), Position: 4}, 40)
	f.pos = 4
	f.gtid(sid, 8)
	f.query("other", "CREATE DATABASE x2")
	got := summarize(drain(t, c, out, f.out))
	want := `COMMIT@bin.000001:165 3e11fa47-71ca-11e1-9e33-c80aa9429562:5 set=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5
DDL@bin.000001:230 3e11fa47-71ca-11e1-9e33-c80aa9429562:6 db.t seq=0
COMMIT@bin.000001:313 3e11fa47-71ca-11e1-9e33-c80aa9429562:6 set=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6
COMMIT@bin.000001:474  set=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-6
COMMIT@bin.000001:739 3e11fa47-71ca-11e1-9e33-c80aa9429562:7 set=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7
DDL@bin.000002:69 3e11fa47-71ca-11e1-9e33-c80aa9429562:8 x2.- seq=0
COMMIT@bin.000002:147 3e11fa47-71ca-11e1-9e33-c80aa9429562:8 set=3e11fa47-71ca-11e1-9e33-c80aa9429562:1-8
`
	if got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

func TestConverterMariaDB(t *testing.T) {
	c, out := newTestConverter(t, cdc.MariaDB, cdc.Position{File: "m.000001", Offset: 4, GTIDSet: "0-1-10,1-2-5"})
	f := &eventFeed{pos: 4}
	f.add(&replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 11}}, 40)
	f.xid()
	f.add(&replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 1, ServerID: 2, SequenceNumber: 6}, Flags: 1}, 40) // standalone
	f.query("db", "TRUNCATE TABLE t")
	f.add(&replication.MariadbGTIDEvent{GTID: mysql.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 12}}, 40)
	f.query("db", "COMMIT") // non-transactional engine
	got := summarize(drain(t, c, out, f.out))
	want := `COMMIT@m.000001:75 0-1-11 set=0-1-11,1-2-5
DDL@m.000001:115 1-2-6 db.t seq=0
COMMIT@m.000001:191 1-2-6 set=0-1-11,1-2-6
COMMIT@m.000001:297 0-1-12 set=0-1-12,1-2-6
`
	if got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

// TestConverterResume replays a transaction after a reconnect and checks
// that events already delivered are skipped, and only those.
func TestConverterResume(t *testing.T) {
	sid := uuid.MustParse("3e11fa47-71ca-11e1-9e33-c80aa9429562")
	c, out := newTestConverter(t, cdc.MySQL, cdc.Position{File: "bin.000001", Offset: 4, GTIDSet: sid.String() + ":1"})
	tx := func(gno int64, views ...string) []*replication.BinlogEvent {
		f := &eventFeed{pos: 4}
		f.gtid(sid, gno)
		f.query("db", "BEGIN")
		for _, v := range views {
			f.query("db", "CREATE VIEW "+v+" AS SELECT 1") // stands in for a row: an event inside a transaction
		}
		f.xid()
		return f.out
	}
	full := tx(2, "a", "b", "c")
	first := drain(t, c, out, full[:4]) // GTID, BEGIN, a, b: then the connection breaks
	if len(first) != 2 {
		t.Fatalf("before the break: %d events", len(first))
	}
	pos := c.resume()
	if pos.GTIDSet != sid.String()+":1" || c.skip != 2 {
		t.Fatalf("resume at %+v skip %d", pos, c.skip)
	}
	second := drain(t, c, out, full[:3]) // breaks again while skipping
	if len(second) != 0 {
		t.Fatalf("skipped events delivered: %+v", second)
	}
	c.resume()
	rest := drain(t, c, out, full)
	if len(rest) != 2 || rest[0].Table.Name != "c" || rest[0].TxSeq != 2 || rest[1].Op != cdc.Commit {
		t.Fatalf("after resume: %s", summarize(rest))
	}
	// A different first transaction after resume means nothing is skipped.
	drain(t, c, out, tx(3, "d")[:3])
	c.resume()
	if evs := drain(t, c, out, tx(4, "e")); len(evs) != 2 || evs[0].Table.Name != "e" {
		t.Errorf("other transaction after resume: %s", summarize(evs))
	}
}
