// Package canaljson encodes change events as Canal JSON flat messages the way
// Alibaba Cloud DTS writes them to Kafka: one row per message, top-level keys
// in alphabetical order, every column value a JSON string or null. It owns
// the message shape, value rendering and escaping; it does not choose topics,
// partitions or keys (the kafka package does). See docs/formats/canal-json.md
// for the exact shape and every choice made where DTS is silent.
//
// The encoder writes JSON by hand into caller-provided buffers: no
// encoding/json, maps or reflection on the data path, and no allocations per
// message once a table's cached header parts exist and dst has room.
package canaljson

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
)

// Binary encodings for Options.BinaryEncoding.
const (
	BinaryLatin1 = "latin1"
	BinaryBase64 = "base64"
	BinaryHex    = "hex"
)

// Options adjust the message shape. The zero value is the shape DTS writes
// for instances created or restarted since 2022-03-20.
type Options struct {
	// MySQLTypeWithLength writes full column types in mysqlType
	// ("bigint(20) unsigned", "varchar(32)") as upstream Canal and the
	// 2021 DTS documentation do; default false: base names ("bigint",
	// also for unsigned columns), as DTS writes them since 2022.
	MySQLTypeWithLength bool `yaml:"mysql_type_with_length" json:"mysql_type_with_length,omitempty"`
	// OmitNullMembers leaves out top-level members whose value is null
	// (data or old when there is no such image, pkNames without a key), as
	// the DTS documentation's examples show; default false: written as
	// null, as upstream Canal does.
	OmitNullMembers bool `yaml:"omit_null_members" json:"omit_null_members,omitempty"`
	// DeleteInOld puts a deleted row in old and leaves data null, as DTS
	// did for instances created before 2022-03-20; default false: the
	// deleted row is in data and old is null.
	DeleteInOld bool `yaml:"delete_in_old" json:"delete_in_old,omitempty"`
	// BinaryEncoding renders BINARY/VARBINARY/BLOB and GEOMETRY values:
	// "latin1" (default: each byte becomes the character of that code
	// point, as upstream Canal does), "base64" (standard, padded) or "hex"
	// (lower case).
	BinaryEncoding string `yaml:"binary_encoding" json:"binary_encoding,omitempty"`

	// Now is the clock for ts; nil means time.Now. Tests inject a fixed
	// clock so that golden files are stable.
	Now func() time.Time `yaml:"-" json:"-"`
	// FirstID is the id of the first message; 0 means 1. For tests.
	FirstID uint64 `yaml:"-" json:"-"`
}

// Validate reports problems as *config.FieldError.
func (o *Options) Validate() error {
	switch o.BinaryEncoding {
	case "", BinaryLatin1, BinaryBase64, BinaryHex:
		return nil
	}
	return config.Errorf("binary_encoding", `use "latin1" (the default), "base64" or "hex"`,
		"%q is not a binary encoding", o.BinaryEncoding)
}

// Encoder writes Canal JSON. It is not safe for concurrent use: the pipeline
// gives each task loop its own Encoder.
type Encoder struct {
	opts   Options
	binary uint8 // binLatin1, binBase64 or binHex
	nextID uint64

	// Header parts per table version. Tables are immutable and shared
	// between events, so the pointer is the key; last short-cuts the map
	// for runs of events on one table.
	last   *cdc.Table
	lastTC *tableCache
	tables map[*cdc.Table]*tableCache
}

const (
	binLatin1 uint8 = iota
	binBase64
	binHex
)

// maxCachedTables bounds the header cache: old table versions are dropped
// all at once rather than kept forever.
const maxCachedTables = 100_000

// tableCache holds what is the same for every message of one table version.
type tableCache struct {
	names    [][]byte // quoted column names followed by ':'
	types    []byte   // "mysqlType":{...},
	sqlTypes []byte   // "sqlType":{...},
	pkNames  []byte   // "pkNames":[...], or "pkNames":null,
	hasPK    bool
}

// New returns an Encoder; opts should have passed Validate (an unknown
// BinaryEncoding is treated as latin1).
//
// Message ids start at opts.FirstID (default 1) and increase by one per
// message this Encoder writes successfully. Like DTS's, they order the
// messages of one run but identify nothing: a restarted task starts again.
func New(opts Options) *Encoder {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FirstID == 0 {
		opts.FirstID = 1
	}
	e := &Encoder{opts: opts, nextID: opts.FirstID, tables: map[*cdc.Table]*tableCache{}}
	switch opts.BinaryEncoding {
	case BinaryBase64:
		e.binary = binBase64
	case BinaryHex:
		e.binary = binHex
	}
	return e
}

// AppendValue appends the message for ev, an Insert, Update, Delete, Read or
// DDL event, to dst and returns the extended slice. On error dst is returned
// unchanged and no id is used.
func (e *Encoder) AppendValue(dst []byte, ev *cdc.Event) ([]byte, error) {
	es := int64(0)
	if !ev.Commit.IsZero() {
		es = ev.Commit.Truncate(time.Second).UnixMilli()
	}
	if ev.Op == cdc.DDL {
		dst = e.appendDDL(dst, ev, es)
		e.nextID++
		return dst, nil
	}
	t := ev.Table
	if t == nil {
		return dst, fmt.Errorf("canal json: %s event without a table", ev.Op)
	}
	var typ string
	var data, old, cmp cdc.Row
	switch ev.Op {
	case cdc.Insert:
		typ, data = "INSERT", ev.After
	case cdc.Read:
		typ, data = "INIT", ev.After
	case cdc.Update:
		typ, data, old, cmp = "UPDATE", ev.After, ev.Before, ev.After
	case cdc.Delete:
		typ = "DELETE"
		if e.opts.DeleteInOld {
			old = ev.Before
		} else {
			data = ev.Before
		}
	default:
		return dst, fmt.Errorf("canal json cannot encode a %s event", ev.Op)
	}
	if err := checkRow(t, data); err != nil {
		return dst, err
	}
	if err := checkRow(t, old); err != nil {
		return dst, err
	}
	if cmp != nil && old != nil && len(cmp) != len(old) {
		return dst, fmt.Errorf("canal json: %s: before image has %d values, after image %d", t.QualifiedName(), len(old), len(cmp))
	}
	tc, err := e.cache(t)
	if err != nil {
		return dst, err
	}

	dst = append(dst, '{')
	if data != nil {
		dst = append(dst, `"data":[`...)
		dst = e.appendRow(dst, t, tc, data, nil)
		dst = append(dst, "],"...)
	} else if !e.opts.OmitNullMembers {
		dst = append(dst, `"data":null,`...)
	}
	dst = append(dst, `"database":`...)
	dst = appendString(dst, t.Schema)
	dst = append(dst, `,"es":`...)
	dst = strconv.AppendInt(dst, es, 10)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, e.nextID, 10)
	dst = append(dst, `,"isDdl":false,`...)
	dst = append(dst, tc.types...)
	if old != nil {
		dst = append(dst, `"old":[`...)
		dst = e.appendRow(dst, t, tc, old, cmp)
		dst = append(dst, "],"...)
	} else if !e.opts.OmitNullMembers {
		dst = append(dst, `"old":null,`...)
	}
	if tc.hasPK || !e.opts.OmitNullMembers {
		dst = append(dst, tc.pkNames...)
	}
	dst = append(dst, `"sql":"",`...)
	dst = append(dst, tc.sqlTypes...)
	dst = append(dst, `"table":`...)
	dst = appendString(dst, t.Name)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, e.opts.Now().UnixMilli(), 10)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `"}`...)
	e.nextID++
	return dst, nil
}

// checkRow reports a row image that does not match its table: a source or
// transform bug that must not turn into a message with columns missing.
func checkRow(t *cdc.Table, r cdc.Row) error {
	if r != nil && len(r) != len(t.Columns) {
		return fmt.Errorf("canal json: %s: row has %d values for %d columns", t.QualifiedName(), len(r), len(t.Columns))
	}
	return nil
}

// appendDDL writes the DDL message: only the members the DTS documentation
// shows. table is "" for statements that name no single table.
func (e *Encoder) appendDDL(dst []byte, ev *cdc.Event, es int64) []byte {
	table := ""
	if ev.Table != nil {
		table = ev.Table.Name
	}
	dst = append(dst, `{"database":`...)
	dst = appendString(dst, ev.Schema())
	dst = append(dst, `,"es":`...)
	dst = strconv.AppendInt(dst, es, 10)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, e.nextID, 10)
	dst = append(dst, `,"isDdl":true,"sql":`...)
	dst = appendString(dst, ev.DDL)
	dst = append(dst, `,"table":`...)
	dst = appendString(dst, table)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, e.opts.Now().UnixMilli(), 10)
	return append(dst, `,"type":"DDL"}`...)
}

// appendRow writes one row object in table column order. With cmp set
// (UPDATE's old image), only the columns whose value differs from cmp are
// written; if none differs the object is empty, as upstream Canal writes it.
func (e *Encoder) appendRow(dst []byte, t *cdc.Table, tc *tableCache, row, cmp cdc.Row) []byte {
	dst = append(dst, '{')
	first := true
	for i := range row {
		if cmp != nil && row[i].Equal(cmp[i]) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, tc.names[i]...)
		dst = e.appendValue(dst, &t.Columns[i], row[i])
	}
	return append(dst, '}')
}

// appendValue writes one column value as a JSON string, or null.
func (e *Encoder) appendValue(dst []byte, c *cdc.Column, v cdc.Value) []byte {
	switch v.Kind {
	case cdc.KindNull:
		return append(dst, "null"...)
	case cdc.KindText:
		return appendStringBytes(dst, v.Bytes)
	case cdc.KindBytes:
		switch e.binary {
		case binBase64:
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, v.Bytes)
			return append(dst, '"')
		case binHex:
			dst = append(dst, '"')
			dst = hex.AppendEncode(dst, v.Bytes)
			return append(dst, '"')
		}
		return appendLatin1(dst, v.Bytes)
	}
	// Numbers, BIT, YEAR, ENUM and SET: cdc renders them. Only ENUM and SET
	// member names can need escaping; when they do, the escaped form is
	// written after the raw text and moved over it, so nothing is allocated.
	dst = append(dst, '"')
	start := len(dst)
	dst = v.AppendText(dst, c)
	if !needsEscape(dst[start:]) {
		return append(dst, '"')
	}
	mid := len(dst)
	dst = appendStringBytes(dst, dst[start:mid])
	n := copy(dst[start-1:], dst[mid:])
	return dst[:start-1+n]
}

// cache returns the header parts of t, building them on first use.
func (e *Encoder) cache(t *cdc.Table) (*tableCache, error) {
	if t == e.last {
		return e.lastTC, nil
	}
	tc, ok := e.tables[t]
	if !ok {
		var err error
		if tc, err = e.build(t); err != nil {
			return nil, err
		}
		if len(e.tables) >= maxCachedTables {
			clear(e.tables)
		}
		e.tables[t] = tc
	}
	e.last, e.lastTC = t, tc
	return tc, nil
}

func (e *Encoder) build(t *cdc.Table) (*tableCache, error) {
	tc := &tableCache{names: make([][]byte, len(t.Columns)), hasPK: len(t.PK) > 0}
	tc.types = append(tc.types, `"mysqlType":{`...)
	tc.sqlTypes = append(tc.sqlTypes, `"sqlType":{`...)
	for i := range t.Columns {
		c := &t.Columns[i]
		tc.names[i] = append(appendString(nil, c.Name), ':')
		if i > 0 {
			tc.types = append(tc.types, ',')
			tc.sqlTypes = append(tc.sqlTypes, ',')
		}
		tc.types = append(tc.types, tc.names[i]...)
		tc.types = appendString(tc.types, MySQLType(c, e.opts.MySQLTypeWithLength))
		tc.sqlTypes = append(tc.sqlTypes, tc.names[i]...)
		tc.sqlTypes = strconv.AppendInt(tc.sqlTypes, int64(SQLType(c)), 10)
	}
	tc.types = append(tc.types, "},"...)
	tc.sqlTypes = append(tc.sqlTypes, "},"...)
	if !tc.hasPK {
		tc.pkNames = append(tc.pkNames, `"pkNames":null,`...)
		return tc, nil
	}
	tc.pkNames = append(tc.pkNames, `"pkNames":[`...)
	for i, k := range t.PK {
		if k < 0 || k >= len(t.Columns) {
			return nil, fmt.Errorf("canal json: %s: key column index %d out of range", t.QualifiedName(), k)
		}
		if i > 0 {
			tc.pkNames = append(tc.pkNames, ',')
		}
		tc.pkNames = appendString(tc.pkNames, t.Columns[k].Name)
	}
	tc.pkNames = append(tc.pkNames, "],"...)
	return tc, nil
}
