// Package canaljson encodes change events as Canal JSON flat messages the way
// Alibaba Cloud DTS writes them to Kafka: one row per message, top-level keys
// in alphabetical order, every column value a JSON string or null. See
// docs/formats/canal-json.md for the exact shape and every choice made where
// DTS is silent.
package canaljson

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
)

// Options adjust the message shape. The zero value is the current DTS shape.
type Options struct {
	// MySQLTypeWithLength writes full column types in mysqlType
	// ("bigint(20) unsigned", "varchar(32)") as upstream Canal and the
	// 2021 DTS documentation do; default: base names ("bigint"), as DTS
	// writes them since 2022.
	MySQLTypeWithLength bool `yaml:"mysql_type_with_length" json:"mysql_type_with_length,omitempty"`
	// OmitNullMembers leaves out members whose value is null (old on
	// INSERT/DELETE, pkNames without a key), as the DTS documentation's
	// examples show; default: written as null, as upstream Canal does.
	OmitNullMembers bool `yaml:"omit_null_members" json:"omit_null_members,omitempty"`
	// DeleteInOld puts a deleted row in old and omits data, as DTS did for
	// instances created before 2022-03-20; default: the row is in data.
	DeleteInOld bool `yaml:"delete_in_old" json:"delete_in_old,omitempty"`
	// BinaryEncoding renders BINARY/VARBINARY/BLOB and GEOMETRY values:
	// "latin1" (default: each byte becomes the character of that code
	// point, as upstream Canal does), "base64" or "hex".
	BinaryEncoding string `yaml:"binary_encoding" json:"binary_encoding,omitempty"`

	// Now is the clock for ts; nil means time.Now. For tests.
	Now func() time.Time `yaml:"-" json:"-"`
	// FirstID is the id of the first message; default 1. For tests.
	FirstID uint64 `yaml:"-" json:"-"`
}

// Validate reports problems as *config.FieldError.
func (o *Options) Validate() error {
	switch o.BinaryEncoding {
	case "", "latin1", "base64", "hex":
		return nil
	}
	return config.Errorf("binary_encoding", `use "latin1", "base64" or "hex"`, "%q is not a binary encoding", o.BinaryEncoding)
}

// Encoder writes Canal JSON. It is not safe for concurrent use.
type Encoder struct {
	opts   Options
	nextID uint64
	tables map[*cdc.Table]*tableCache
}

// tableCache holds what is the same for every message of one table version.
type tableCache struct {
	names    [][]byte // quoted column names followed by ':'
	types    []byte   // "mysqlType":{...},
	sqlTypes []byte   // "sqlType":{...},
	pkNames  []byte   // "pkNames":[...], or null
}

// New returns an Encoder. Message ids start at opts.FirstID (default 1) and
// increase by one per message, per Encoder: like DTS's they order messages
// but are not unique across restarts.
func New(opts Options) *Encoder {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FirstID == 0 {
		opts.FirstID = 1
	}
	return &Encoder{opts: opts, nextID: opts.FirstID, tables: map[*cdc.Table]*tableCache{}}
}

// AppendValue appends the message for ev to dst.
func (e *Encoder) AppendValue(dst []byte, ev *cdc.Event) ([]byte, error) {
	id := e.nextID
	e.nextID++
	es := ev.Commit.Truncate(time.Second).UnixMilli()
	ts := e.opts.Now().UnixMilli()
	if ev.Op == cdc.DDL {
		return e.appendDDL(dst, ev, id, es, ts), nil
	}
	t := ev.Table
	tc := e.cache(t)
	dst = append(dst, '{')
	var typ string
	var data, old cdc.Row
	changedOnly := false
	switch ev.Op {
	case cdc.Insert:
		typ, data = "INSERT", ev.After
	case cdc.Read:
		typ, data = "INIT", ev.After
	case cdc.Update:
		typ, data, old, changedOnly = "UPDATE", ev.After, ev.Before, true
	case cdc.Delete:
		typ = "DELETE"
		if e.opts.DeleteInOld {
			old = ev.Before
		} else {
			data = ev.Before
		}
	default:
		return dst, errOp(ev.Op)
	}
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
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"isDdl":false,`...)
	dst = append(dst, tc.types...)
	if old != nil {
		dst = append(dst, `"old":[`...)
		if changedOnly {
			dst = e.appendRow(dst, t, tc, old, ev.After)
		} else {
			dst = e.appendRow(dst, t, tc, old, nil)
		}
		dst = append(dst, "],"...)
	} else if !e.opts.OmitNullMembers {
		dst = append(dst, `"old":null,`...)
	}
	if len(t.PK) > 0 || !e.opts.OmitNullMembers {
		dst = append(dst, tc.pkNames...)
	}
	dst = append(dst, `"sql":"",`...)
	dst = append(dst, tc.sqlTypes...)
	dst = append(dst, `"table":`...)
	dst = appendString(dst, t.Name)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	dst = append(dst, `,"type":"`...)
	dst = append(dst, typ...)
	dst = append(dst, `"}`...)
	return dst, nil
}

func (e *Encoder) appendDDL(dst []byte, ev *cdc.Event, id uint64, es, ts int64) []byte {
	table := ""
	if ev.Table != nil {
		table = ev.Table.Name
	}
	dst = append(dst, `{"database":`...)
	dst = appendString(dst, ev.Schema())
	dst = append(dst, `,"es":`...)
	dst = strconv.AppendInt(dst, es, 10)
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"isDdl":true,"sql":`...)
	dst = appendString(dst, ev.DDL)
	dst = append(dst, `,"table":`...)
	dst = appendString(dst, table)
	dst = append(dst, `,"ts":`...)
	dst = strconv.AppendInt(dst, ts, 10)
	return append(dst, `,"type":"DDL"}`...)
}

// appendRow writes one row object. With cmp set (UPDATE's old image), only
// the columns whose value differs from cmp are written.
func (e *Encoder) appendRow(dst []byte, t *cdc.Table, tc *tableCache, row, cmp cdc.Row) []byte {
	dst = append(dst, '{')
	first := true
	for i := range t.Columns {
		if i >= len(row) {
			break
		}
		if cmp != nil && i < len(cmp) && row[i].Equal(cmp[i]) {
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

func (e *Encoder) appendValue(dst []byte, c *cdc.Column, v cdc.Value) []byte {
	switch v.Kind {
	case cdc.KindNull:
		return append(dst, "null"...)
	case cdc.KindBytes:
		switch e.opts.BinaryEncoding {
		case "base64":
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, v.Bytes)
			return append(dst, '"')
		case "hex":
			dst = append(dst, '"')
			dst = hex.AppendEncode(dst, v.Bytes)
			return append(dst, '"')
		}
		return appendLatin1(dst, v.Bytes)
	case cdc.KindText:
		return appendStringBytes(dst, v.Bytes)
	}
	// Numbers, ENUM and SET: their text needs no escaping except member
	// names, so render into dst and escape in place only when needed.
	dst = append(dst, '"')
	start := len(dst)
	dst = v.AppendText(dst, c)
	if needsEscape(dst[start:]) {
		text := string(dst[start:])
		dst = appendString(dst[:start-1], text)
		return dst
	}
	return append(dst, '"')
}

func (e *Encoder) cache(t *cdc.Table) *tableCache {
	if tc, ok := e.tables[t]; ok {
		return tc
	}
	if len(e.tables) > 100_000 { // old table versions: start over rather than grow forever
		clear(e.tables)
	}
	tc := &tableCache{names: make([][]byte, len(t.Columns))}
	tc.types = append(tc.types, `"mysqlType":{`...)
	tc.sqlTypes = append(tc.sqlTypes, `"sqlType":{`...)
	for i := range t.Columns {
		c := &t.Columns[i]
		name := appendString(nil, c.Name)
		tc.names[i] = append(name, ':')
		if i > 0 {
			tc.types = append(tc.types, ',')
			tc.sqlTypes = append(tc.sqlTypes, ',')
		}
		tc.types = append(tc.types, tc.names[i]...)
		typeName := c.BaseTypeName()
		if e.opts.MySQLTypeWithLength && c.ColumnType != "" {
			typeName = c.ColumnType
		}
		tc.types = appendString(tc.types, typeName)
		tc.sqlTypes = append(tc.sqlTypes, tc.names[i]...)
		tc.sqlTypes = strconv.AppendInt(tc.sqlTypes, int64(SQLType(c)), 10)
	}
	tc.types = append(tc.types, "},"...)
	tc.sqlTypes = append(tc.sqlTypes, "},"...)
	if len(t.PK) == 0 {
		tc.pkNames = append(tc.pkNames, `"pkNames":null,`...)
	} else {
		tc.pkNames = append(tc.pkNames, `"pkNames":[`...)
		for i, k := range t.PK {
			if i > 0 {
				tc.pkNames = append(tc.pkNames, ',')
			}
			tc.pkNames = appendString(tc.pkNames, t.Columns[k].Name)
		}
		tc.pkNames = append(tc.pkNames, "],"...)
	}
	e.tables[t] = tc
	return tc
}

type errOp cdc.Op

func (o errOp) Error() string { return "canal json cannot encode a " + cdc.Op(o).String() + " event" }
