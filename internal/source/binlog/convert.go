package binlog

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"

	"github.com/opendts/opendts/internal/cdc"
)

// errStopped is returned by the event handler when the Reader stops it.
var errStopped = errors.New("binlog reader stopped")

// converter turns binlog events into cdc.Events. It runs as go-mysql's
// SynchronousEventHandler, so it is called on the replication goroutine, one
// event at a time in binlog order, and hands the cdc.Events of each binlog
// event to the Reader as one batch. Between two replication connections the
// Reader owns it (the old goroutine has exited before the new one starts).
type converter struct {
	env    tableEnv
	vd     valueDecoder
	ddl    *ddlParser
	log    *slog.Logger
	flavor cdc.Flavor

	out  chan<- []cdc.Event
	stop <-chan struct{}
	err  error // the decoding error that ended the stream, if any

	// stream position
	file     string
	next     uint64 // offset of the next event in file
	checksum int    // trailing checksum bytes of top-level events
	idSize   int    // table id size in TABLE_MAP and rows events

	tables  *tables
	byID    map[uint64]*tableInfo // TABLE_MAPs of the current statement
	pending []pendingRows         // rows bodies from decodeRows, in parse order

	// transaction state
	gset    mysql.GTIDSet // executed set after the last commit; nil if unknown
	gtid    string        // GTID of the current transaction
	sid     uuid.UUID     // MySQL GTID parts (with hasGTID)
	tag     mysql.Tag
	gno     int64
	mgtid   mysql.MariadbGTID // MariaDB GTID (with hasGTID)
	hasGTID bool
	inTx    bool
	txSeq   uint64

	// After a reconnect the first transaction is read again from its start;
	// skip drops its events that were already delivered.
	skip     uint64
	skipGTID string

	last  cdc.Position // where to resume: the last Commit's position, or the start
	batch []cdc.Event
}

// pendingRows is the undecoded body of a rows event.
type pendingRows struct {
	ev   *replication.RowsEvent
	body []byte
}

func newConverter(env tableEnv, loc *time.Location, log *slog.Logger, start cdc.Position, gset mysql.GTIDSet) *converter {
	c := &converter{
		env: env, vd: valueDecoder{loc: loc}, ddl: newDDLParser(), log: log, flavor: env.flavor,
		idSize: 6, tables: newTables(), byID: map[uint64]*tableInfo{}, gset: gset,
	}
	c.last = start
	c.last.Flavor = env.flavor
	if gset != nil {
		c.last.GTIDSet = gset.String()
	}
	c.file, c.next = start.File, start.Offset
	return c
}

// decodeRows is go-mysql's RowsEventDecodeFunc: it decodes only the header
// (table id, column bitmaps) and keeps the rows for HandleEvent, which
// decodes them straight into cdc.Values.
func (c *converter) decodeRows(e *replication.RowsEvent, data []byte) error {
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	c.pending = append(c.pending, pendingRows{ev: e, body: data[pos:]})
	return nil
}

// HandleEvent implements replication.EventHandler.
func (c *converter) HandleEvent(e *replication.BinlogEvent) error {
	err := c.handle(e, nil)
	c.pending = c.pending[:0]
	if err != nil {
		c.batch = nil
		c.err = fmt.Errorf("%s ending at %s:%d: %w", e.Header.EventType, c.file, c.next, err)
		return c.err
	}
	if len(c.batch) == 0 {
		return nil
	}
	b := c.batch
	c.batch = nil
	select {
	case c.out <- b:
		return nil
	case <-c.stop:
		return errStopped
	}
}

// handle converts one event. outer is the TRANSACTION_PAYLOAD event that
// holds e, if any; its position stands for the events inside it.
func (c *converter) handle(e *replication.BinlogEvent, outer *replication.EventHeader) error {
	h := e.Header
	if _, ok := e.Event.(*replication.HeartbeatEvent); ok {
		return nil
	}
	// off is the event's offset, end the offset after it. Events inside a
	// TRANSACTION_PAYLOAD take the payload's position.
	var off, end uint64
	if outer != nil {
		off, end = uint64(outer.LogPos-outer.EventSize), uint64(outer.LogPos)
	} else {
		off = c.advance(h)
		end = off + uint64(h.EventSize)
	}
	switch ev := e.Event.(type) {
	case *replication.RotateEvent:
		c.file, c.next = string(ev.NextLogName), ev.Position
	case *replication.FormatDescriptionEvent:
		c.checksum = 0
		if ev.ChecksumAlgorithm == replication.BINLOG_CHECKSUM_ALG_CRC32 {
			c.checksum = replication.BinlogChecksumLength
		}
		if i := int(replication.TABLE_MAP_EVENT) - 1; i < len(ev.EventTypeHeaderLengths) && ev.EventTypeHeaderLengths[i] == 6 {
			c.idSize = 4
		} else {
			c.idSize = 6
		}
	case *replication.PreviousGTIDsEvent:
		// At the start of a file, the executed set is what earlier files hold.
		if c.gset == nil && c.flavor == cdc.MySQL {
			if s, err := mysql.ParseMysqlGTIDSet(ev.GTIDSets); err == nil {
				c.gset = s
			}
		}
	case *replication.GTIDEvent:
		c.beginMySQL(ev, mysql.Tag{})
	case *replication.GtidTaggedLogEvent:
		c.beginMySQL(&ev.GTIDEvent, ev.Tag)
	case *replication.MariadbGTIDEvent:
		c.mgtid, c.hasGTID = ev.GTID, true
		c.begin(ev.GTID.String())
		c.inTx = !ev.IsStandalone()
	case *replication.QueryEvent:
		return c.query(h, ev, off, end)
	case *replication.XIDEvent:
		c.commit(h, end)
	case *replication.TableMapEvent:
		return c.tableMap(e, ev, outer != nil)
	case *replication.RowsEvent:
		return c.rows(h, ev, off)
	case *replication.TransactionPayloadEvent:
		for _, inner := range ev.Events {
			if err := c.handle(inner, h); err != nil {
				return err
			}
		}
	case *replication.GenericEvent:
		if h.EventType == replication.XA_PREPARE_LOG_EVENT {
			c.commit(h, end)
		}
	}
	return nil
}

// advance moves the position past a top-level event and returns the
// event's own offset.
func (c *converter) advance(h *replication.EventHeader) uint64 {
	switch {
	case h.LogPos >= h.EventSize && h.LogPos > 0:
		c.next = uint64(h.LogPos)
		return uint64(h.LogPos - h.EventSize)
	case h.Flags&replication.LOG_EVENT_ARTIFICIAL_F != 0 || h.Timestamp == 0:
		return c.next // fake ROTATE / FORMAT_DESCRIPTION sent when dumping starts
	}
	off := c.next
	c.next += uint64(h.EventSize)
	return off
}

func (c *converter) beginMySQL(ev *replication.GTIDEvent, tag mysql.Tag) {
	sid, err := uuid.FromBytes(ev.SID)
	if err != nil || (sid == uuid.UUID{}) { // anonymous transaction (gtid_mode=OFF)
		c.hasGTID = false
		c.begin("")
		return
	}
	c.sid, c.tag, c.gno, c.hasGTID = sid, tag, ev.GNO, true
	g := sid.String()
	if tag != (mysql.Tag{}) {
		g += ":" + tag.String()
	}
	c.begin(g + ":" + strconv.FormatInt(ev.GNO, 10))
}

// begin starts a transaction with the given GTID.
func (c *converter) begin(gtid string) {
	c.gtid, c.txSeq = gtid, 0
	if c.skip > 0 && c.skipGTID != "" && gtid != c.skipGTID {
		c.log.Warn("first transaction after reconnect differs; nothing skipped",
			slog.String("gtid", gtid), slog.String("binlog_file", c.file))
		c.skip = 0
	}
	c.skipGTID = ""
}

// emit adds a row or DDL event of the current transaction to the batch.
func (c *converter) emit(ev cdc.Event) {
	ev.TxSeq = c.txSeq
	c.txSeq++
	if c.skip > 0 {
		c.skip--
		return
	}
	c.batch = append(c.batch, ev)
}

// commit ends the current transaction; next is the offset after it.
func (c *converter) commit(h *replication.EventHeader, next uint64) {
	if c.hasGTID && c.gset != nil {
		switch s := c.gset.(type) {
		case *mysql.MysqlGTIDSet:
			s.AddGTIDWithTag(c.sid, c.tag, c.gno)
		case *mysql.MariadbGTIDSet:
			if err := s.AddSet(&c.mgtid); err != nil {
				c.log.Warn("gtid not added to the executed set", slog.String("gtid", c.gtid), slog.String("err", err.Error()))
			}
		}
	}
	pos := cdc.Position{Flavor: c.flavor, File: c.file, Offset: next, GTID: c.gtid}
	if c.gset != nil {
		pos.GTIDSet = c.gset.String()
	}
	c.batch = append(c.batch, cdc.Event{Op: cdc.Commit, Pos: pos, Commit: time.Unix(int64(h.Timestamp), 0),
		ServerID: h.ServerID, TxSeq: c.txSeq})
	c.last = pos
	c.gtid, c.hasGTID, c.inTx, c.txSeq, c.skip = "", false, false, 0, 0
	clear(c.byID)
}

// resume prepares for reading again from the last commit after the stream
// broke, and returns where to start.
func (c *converter) resume() cdc.Position {
	c.skip = c.txSeq + c.skip // delivered: seen in this attempt plus still to skip
	if c.gtid != "" {
		c.skipGTID = c.gtid
	}
	c.gtid, c.hasGTID, c.inTx, c.txSeq = "", false, false, 0
	c.file, c.next = c.last.File, c.last.Offset
	c.batch, c.pending = nil, c.pending[:0]
	clear(c.byID)
	return c.last
}

func (c *converter) query(h *replication.EventHeader, q *replication.QueryEvent, off, end uint64) error {
	switch classifyQuery(q.Query) {
	case queryBegin:
		c.inTx = true
		return nil
	case queryCommit:
		c.commit(h, end)
		return nil
	case querySavepoint:
		return nil
	}
	stmt := string(q.Query)
	if info, ok := c.ddl.parse(string(q.Schema), stmt); ok {
		ev := cdc.Event{Op: cdc.DDL, DDL: stmt, Database: info.db,
			Pos:    cdc.Position{Flavor: c.flavor, File: c.file, Offset: off, GTID: c.gtid},
			Commit: time.Unix(int64(h.Timestamp), 0), ServerID: h.ServerID}
		if info.table != "" {
			ev.Table = &cdc.Table{Schema: info.db, Name: info.table} // names the table; no columns, Version 0
		}
		c.emit(ev)
		if c.env.tracker != nil {
			c.env.tracker.apply(string(q.Schema), info)
		}
		c.log.Debug("ddl", slog.String("db", info.db), slog.String("table", info.table),
			slog.String("binlog_file", c.file), slog.Uint64("binlog_pos", off))
	}
	if !c.inTx {
		c.commit(h, end)
	}
	return nil
}

// tableMap compiles (or finds cached) the table a TABLE_MAP describes.
func (c *converter) tableMap(e *replication.BinlogEvent, tm *replication.TableMapEvent, inner bool) error {
	raw := e.RawData
	end := len(raw)
	if !inner {
		end -= c.checksum
	}
	start := replication.EventHeaderSize + c.idSize + 2
	if start > end {
		return fmt.Errorf("table map event too short")
	}
	sig := raw[start:end]
	ti := c.tables.get(sig)
	if ti != nil && ti.tracked != 0 && ti.tracked != c.env.tracker.generation(string(tm.Schema), string(tm.Table)) {
		ti = nil // the tracker's definition changed (e.g. a column was renamed)
	}
	if ti == nil {
		var err error
		if ti, err = c.env.compile(tm); err != nil {
			return err
		}
		c.tables.put(sig, ti)
		if ti.table != nil {
			c.log.Debug("table definition", slog.String("db", ti.table.Schema), slog.String("table", ti.table.Name),
				slog.Uint64("version", ti.table.Version))
		}
	}
	c.byID[tm.TableID] = ti
	return nil
}

// rows decodes a rows event into one cdc.Event per row (per before/after
// pair for updates).
func (c *converter) rows(h *replication.EventHeader, e *replication.RowsEvent, off uint64) (err error) {
	var body []byte
	for i := range c.pending {
		if c.pending[i].ev == e {
			body = c.pending[i].body
		}
	}
	ti := c.byID[e.TableID]
	if ti == nil {
		return fmt.Errorf("rows event for table id %d without a table map", e.TableID)
	}
	if ti.table == nil {
		return nil // not included: not decoded
	}
	var op cdc.Op
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		op = cdc.Insert
	case replication.EnumRowsEventTypeUpdate:
		op = cdc.Update
	case replication.EnumRowsEventTypeDelete:
		op = cdc.Delete
	default:
		if h.EventType != replication.PARTIAL_UPDATE_ROWS_EVENT {
			return fmt.Errorf("unknown rows event type %s", h.EventType)
		}
		op = cdc.Update
	}
	switch h.EventType {
	case replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		if body, err = mysql.DecompressMariadbData(body); err != nil {
			return fmt.Errorf("decompress rows: %w", err)
		}
	}
	t := ti.table
	n := len(ti.decoders)
	if int(e.ColumnCount) != n {
		return fmt.Errorf("table %s: rows event has %d columns, table map %d", t.QualifiedName(), e.ColumnCount, n)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s: malformed row image: %v", t.QualifiedName(), r)
		}
	}()
	present1, present2 := e.ColumnBitmap1, e.ColumnBitmap2
	np1, np2 := countBits(present1, n), 0
	images := 1
	if op == cdc.Update {
		np2, images = countBits(present2, n), 2
	}
	partial := h.EventType == replication.PARTIAL_UPDATE_ROWS_EVENT
	commit := time.Unix(int64(h.Timestamp), 0)
	pos := cdc.Position{Flavor: c.flavor, File: c.file, Offset: off, GTID: c.gtid}
	var vals []cdc.Value
	for p, rows := 0, 0; p < len(body); rows++ {
		if len(vals) < n*images {
			// Values of several rows share one allocation, sized from the
			// bytes the rows so far took.
			k := 4
			if rows > 0 {
				k = (len(body)-p)/max(p/rows, 1) + 1
			}
			vals = make([]cdc.Value, n*images*min(max(k, 1), 64))
		}
		img := vals[:n:n]
		vals = vals[n:]
		m, err := c.vd.image(body[p:], ti.decoders, present1, np1, img)
		if err != nil {
			return fmt.Errorf("table %s: %w", t.QualifiedName(), err)
		}
		p += m
		ev := cdc.Event{Op: op, Table: t, Database: t.Schema, Pos: pos, Commit: commit, ServerID: h.ServerID}
		switch op {
		case cdc.Insert:
			ev.After = img
		case cdc.Delete:
			ev.Before = img
		case cdc.Update:
			if partial {
				if m, err = skipPartialHeader(body[p:], ti); err != nil {
					return fmt.Errorf("table %s: %w", t.QualifiedName(), err)
				}
				p += m
			}
			after := vals[:n:n]
			vals = vals[n:]
			if m, err = c.vd.image(body[p:], ti.decoders, present2, np2, after); err != nil {
				return fmt.Errorf("table %s: %w", t.QualifiedName(), err)
			}
			p += m
			ev.Before, ev.After = img, after
		}
		c.emit(ev)
	}
	return nil
}

// skipPartialHeader reads the binlog_row_value_options header of an after
// image in a PARTIAL_UPDATE_ROWS_EVENT. Partial JSON diffs are not
// supported: the full document is needed to emit the after image.
func skipPartialHeader(b []byte, ti *tableInfo) (int, error) {
	opts, _, n := mysql.LengthEncodedInt(b)
	if opts&1 == 0 {
		return n, nil
	}
	jsonCols := 0
	for i := range ti.decoders {
		if ti.decoders[i].kind == decJSON {
			jsonCols++
		}
	}
	size := (jsonCols + 7) / 8
	if len(b) < n+size {
		return 0, errShort
	}
	for _, x := range b[n : n+size] {
		if x != 0 {
			return 0, errors.New("partial JSON update: set binlog_row_value_options='' on the source")
		}
	}
	return n + size, nil
}
