package binlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/opendts/opendts/internal/cdc"
)

// Reconnection policy: waits double from minBackoff to maxBackoff; after
// maxAttempts reconnects without a transaction getting through, Next
// returns the error.
const (
	minBackoff  = time.Second
	maxBackoff  = time.Minute
	maxAttempts = 10
	// batchQueue is how many binlog events' worth of cdc.Events may wait
	// between the replication goroutine and Next.
	batchQueue = 256
)

// Reader streams a source's binlog as cdc.Events. It is not safe for
// concurrent use: call Next from one goroutine, and Close after the last
// Next has returned (cancel Next's context to stop it).
type Reader struct {
	cfg  Config
	log  *slog.Logger
	srv  *server
	conv *converter

	batches chan []cdc.Event
	stream  *stream // the current replication connection, nil between them
	cur     []cdc.Event
	failed  error // the stream's error, handled when the queue is drained
	fatal   error // returned by every later Next
	retries int
}

// stream is one replication connection: go-mysql's syncer (whose goroutine
// runs the converter) and a watcher goroutine that reports its end.
type stream struct {
	syncer *replication.BinlogSyncer
	stop   chan struct{} // closed to unblock the converter
	errc   chan error    // the stream's terminal error
	cancel context.CancelFunc
	done   chan struct{} // closed when the watcher has exited
}

// Open connects to the source and starts streaming from start: from
// start.GTIDSet when it is set, else from start.File at start.Offset. The
// first events may arrive before Open returns; they wait for Next.
func Open(ctx context.Context, cfg Config, start cdc.Position, log *slog.Logger) (*Reader, error) {
	return openReader(ctx, cfg, start, log, false)
}

// openReader is Open; minimal makes it ignore the optional TABLE_MAP
// metadata, as with a server logging none, so tests can run the schema
// tracker against a server that logs FULL metadata.
func openReader(ctx context.Context, cfg Config, start cdc.Position, log *slog.Logger, minimal bool) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if start.IsZero() {
		return nil, errors.New("open binlog: no start position; resolve one with ResolveStart")
	}
	conn, err := dial(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	srv, err := probe(conn, &cfg, log)
	if err != nil {
		return nil, err
	}
	srv.minimal = minimal
	if start.Flavor != "" && start.Flavor != srv.flavor {
		return nil, fmt.Errorf("start position is for %s but the server is %s", start.Flavor, srv.flavor)
	}
	if cfg.ServerID == 0 {
		cfg.ServerID = deriveServerID(cfg.Name, srv.serverID)
	}
	var gset mysql.GTIDSet
	switch {
	case start.GTIDSet != "":
		if gset, err = mysql.ParseGTIDSet(string(srv.flavor), start.GTIDSet); err != nil {
			return nil, fmt.Errorf("start gtid set %q: %w", start.GTIDSet, err)
		}
		if err := checkGTIDPurged(conn, srv.flavor, gset); err != nil {
			return nil, err
		}
	default:
		if err := checkFile(conn, start.File); err != nil {
			return nil, err
		}
		if srv.flavor == cdc.MariaDB {
			// Know the GTID position at start.File:start.Offset, so that Commit
			// positions carry GTID sets (which survive failover).
			if pos, err := mariadbGTIDPos(conn, start.File, start.Offset); err == nil && pos != "" {
				gset, _ = mysql.ParseMariadbGTIDSet(pos)
			}
		}
	}
	env := tableEnv{flavor: srv.flavor, widths: srv.widths(), collations: srv.collations, include: cfg.Include}
	if !srv.fullMeta || srv.minimal {
		log.Warn("binlog_row_metadata is not FULL: column names come from a schema tracker; set binlog_row_metadata=FULL to be exact")
		if env.tracker, err = loadTracker(ctx, conn, &cfg, log); err != nil {
			return nil, err
		}
	}
	r := &Reader{cfg: cfg, log: log, srv: srv, batches: make(chan []cdc.Event, batchQueue)}
	r.conv = newConverter(env, srv.loc, log, start, gset)
	r.conv.out = r.batches
	first := r.conv.last
	if start.GTIDSet == "" {
		first.GTIDSet = "" // start where asked; later reconnects use the GTID set if known
	}
	if err := r.connect(ctx, first); err != nil {
		if isPurgeError(err) {
			err = fmt.Errorf("%w: %w", ErrPurged, err)
		}
		return nil, err
	}
	// From here on the converter belongs to the replication goroutine.
	log.Info("binlog reader started", append(logPos(first),
		slog.String("flavor", string(srv.flavor)), slog.Uint64("server_id", uint64(cfg.ServerID)),
		slog.String("time_zone", srv.loc.String()))...)
	return r, nil
}

// checkGTIDPurged returns ErrPurged when a MySQL server has purged
// transactions that gset lacks. MariaDB reports this when streaming starts.
func checkGTIDPurged(conn *client.Conn, flavor cdc.Flavor, gset mysql.GTIDSet) error {
	if flavor != cdc.MySQL {
		return nil
	}
	r, err := conn.Execute("SELECT @@GLOBAL.gtid_purged")
	if err != nil || r.RowNumber() == 0 {
		return nil
	}
	s, _ := r.GetString(0, 0)
	s = strings.Join(strings.Fields(s), "")
	purged, err := mysql.ParseMysqlGTIDSet(s)
	if err != nil || purged.IsEmpty() {
		return nil
	}
	if !gset.Contain(purged) {
		return fmt.Errorf("the server purged transactions %s that the start set %s lacks: %w", s, gset, ErrPurged)
	}
	return nil
}

// syncerConfig is go-mysql's configuration for one connection.
func (r *Reader) syncerConfig() replication.BinlogSyncerConfig {
	tc, _ := tlsConfig(&r.cfg) // validated in Open
	c := replication.BinlogSyncerConfig{
		ServerID:                r.cfg.ServerID,
		Flavor:                  string(r.srv.flavor),
		Host:                    r.cfg.Host,
		Port:                    uint16(r.cfg.Port),
		User:                    r.cfg.User,
		Password:                r.cfg.Password.Reveal(),
		TLSConfig:               tc,
		HeartbeatPeriod:         10 * time.Second,
		ReadTimeout:             60 * time.Second,
		DisableRetrySync:        true, // we reconnect from the last commit ourselves
		DiscardGTIDSet:          true, // we keep the executed set ourselves
		EventCacheCount:         1,    // unused: events go to SynchronousEventHandler
		Logger:                  slog.New(demote{r.log.Handler()}),
		RowsEventDecodeFunc:     r.conv.decodeRows,
		SynchronousEventHandler: r.conv,
	}
	if r.srv.minimal {
		c.TableMapOptionalMetaDecodeFunc = func([]byte) error { return nil }
	}
	return c
}

// connect starts a replication connection at pos.
func (r *Reader) connect(ctx context.Context, pos cdc.Position) error {
	s := &stream{stop: make(chan struct{}), errc: make(chan error, 1), done: make(chan struct{})}
	r.conv.stop = s.stop
	r.conv.err = nil
	s.syncer = replication.NewBinlogSyncer(r.syncerConfig())
	var (
		st  *replication.BinlogStreamer
		err error
	)
	if pos.GTIDSet != "" {
		var gset mysql.GTIDSet
		if gset, err = mysql.ParseGTIDSet(string(r.srv.flavor), pos.GTIDSet); err == nil {
			st, err = s.syncer.StartSyncGTID(gset)
		}
	} else {
		st, err = s.syncer.StartSync(mysql.Position{Name: pos.File, Pos: uint32(pos.Offset)})
	}
	if err != nil {
		s.syncer.Close()
		return fmt.Errorf("start replication at %s: %w", pos, err)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go func() {
		defer close(s.done)
		_, err := st.GetEvent(wctx) // returns only when the stream ends: events go to the converter
		s.errc <- err
	}()
	r.stream = s
	return nil
}

// disconnect ends the current replication connection and waits for its
// goroutines.
func (r *Reader) disconnect() {
	s := r.stream
	if s == nil {
		return
	}
	r.stream = nil
	close(s.stop)
	s.syncer.Close()
	s.cancel()
	<-s.done
}

// Next returns the next event in binlog order, blocking until there is one
// or ctx ends:
//
//   - Insert, Update, Delete: one event per row (an UPDATE's before and
//     after images in one event), Table being the definition the row was
//     written with, shared by all rows of that definition;
//   - DDL: one per statement, Database its database, Table naming the one
//     table it changes (Schema and Name only; nil if it names none or
//     several); a DDL statement is its own transaction;
//   - Commit: ends every transaction, DDL included. Its Pos is where to
//     resume after it: the offset after the transaction and, when known,
//     the executed GTID set including it.
//
// Every Pos has Flavor, File, Offset (of the event) and the transaction's
// GTID; only Commit positions carry GTIDSet. The event and its rows must
// not be modified. After a connection failure Next reconnects with backoff,
// resuming at the last Commit and skipping the events of the interrupted
// transaction it already returned; it returns an error only when that
// fails repeatedly, the position was purged (ErrPurged), or the stream
// cannot be decoded. After an error other than ctx's, Next keeps returning
// that error.
func (r *Reader) Next(ctx context.Context) (*cdc.Event, error) {
	for {
		if len(r.cur) > 0 {
			ev := &r.cur[0]
			r.cur = r.cur[1:]
			if ev.Op == cdc.Commit {
				r.retries = 0 // a whole transaction got through
			}
			return ev, nil
		}
		if r.fatal != nil {
			return nil, r.fatal
		}
		if r.failed != nil {
			select {
			case b := <-r.batches: // delivered before the stream ended
				r.cur = b
				continue
			default:
			}
			if err := r.recover(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, err
				}
				r.fatal = err
				r.disconnect()
				return nil, err
			}
			continue
		}
		if r.stream == nil {
			return nil, errors.New("binlog reader is closed")
		}
		select {
		case b := <-r.batches:
			r.cur = b
		case err := <-r.stream.errc:
			r.failed = err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// recover handles the end of a replication connection: decoding errors and
// purged positions are final; connection failures are retried from the last
// commit with exponential backoff.
func (r *Reader) recover(ctx context.Context) error {
	err := r.failed
	convErr := r.conv.err
	r.disconnect()
	if convErr != nil {
		return fmt.Errorf("decode binlog: %w", convErr)
	}
	pos := r.conv.resume()
	for {
		if isPurgeError(err) {
			return fmt.Errorf("read binlog from %s: %w: %w", r.conv.last, ErrPurged, err)
		}
		if !isRetryable(err) {
			return fmt.Errorf("read binlog at %s:%d: %w", r.conv.file, r.conv.next, err)
		}
		r.retries++
		if r.retries > maxAttempts {
			return fmt.Errorf("read binlog: giving up after %d reconnects: %w", maxAttempts, err)
		}
		wait := min(minBackoff<<(r.retries-1), maxBackoff)
		r.log.Warn("binlog connection lost; reconnecting", append(logPos(pos),
			slog.String("err", err.Error()), slog.Int("attempt", r.retries), slog.Duration("wait", wait))...)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err = r.connect(ctx, pos); err == nil {
			r.failed = nil
			return nil
		}
	}
}

// Close stops streaming and releases the connection. Events not yet
// returned by Next are dropped.
func (r *Reader) Close() error {
	r.disconnect()
	r.fatal = errors.New("binlog reader is closed")
	return nil
}

// demote is a slog.Handler that logs go-mysql's messages one level lower:
// its errors are also returned to us, and its info is our debug detail.
type demote struct{ slog.Handler }

func (d demote) Enabled(ctx context.Context, l slog.Level) bool {
	return d.Handler.Enabled(ctx, l-4)
}

func (d demote) Handle(ctx context.Context, rec slog.Record) error {
	rec.Level -= 4
	return d.Handler.Handle(ctx, rec)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.Handler.WithAttrs(as)} }
func (d demote) WithGroup(g string) slog.Handler       { return demote{d.Handler.WithGroup(g)} }
