// Package verify compares what a task wrote to Kafka with the source tables:
// it reads the task's topic to its end, keeps the newest image of every row
// (by primary key), reads the selected tables, and reports rows missing from
// the topic, rows the topic has that the source does not, and rows whose
// values differ. It is `dts verify` and the test suite's oracle. It reads
// Canal JSON topics.
package verify

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/format/canaljson"
	"github.com/opendts/opendts/internal/kafka"
	"github.com/opendts/opendts/internal/objects"
	"github.com/opendts/opendts/internal/pipeline"
	"github.com/opendts/opendts/internal/source/binlog"
	"github.com/opendts/opendts/internal/task"
)

// Report is the outcome of one comparison.
type Report struct {
	Tables []TableReport
}

// TableReport is the comparison of one table.
type TableReport struct {
	Schema, Table string
	SourceRows    int // rows in the source table
	TopicRows     int // live rows (not deleted) in the topic
	Missing       int // in the source, not in the topic
	Extra         int // in the topic, not in the source
	Different     int // in both, with different values
	NoKey         bool
	Samples       []string // a few differences, for the operator
}

// Differences is the number of rows that do not match across all tables.
func (r Report) Differences() int {
	n := 0
	for _, t := range r.Tables {
		n += t.Missing + t.Extra + t.Different
		if t.NoKey && t.SourceRows != t.TopicRows {
			n += max(t.SourceRows-t.TopicRows, t.TopicRows-t.SourceRows)
		}
	}
	return n
}

const maxSamples = 5

type row = map[string]*string

// Run compares spec's topic with its source tables.
func Run(ctx context.Context, spec task.Spec, log *slog.Logger) (Report, error) {
	if k := spec.Format.Kind; k != "" && k != "canal_json" {
		return Report{}, fmt.Errorf("format %s: verify reads canal_json topics only", k)
	}
	latest, err := readTopic(ctx, spec, log)
	if err != nil {
		return Report{}, err
	}
	sel := objects.Compile(spec.Objects)
	conn, err := dialSource(ctx, spec, sel)
	if err != nil {
		return Report{}, err
	}
	defer conn.Close()
	tables, err := selectedTables(conn, sel)
	if err != nil {
		return Report{}, err
	}
	var rep Report
	for _, t := range tables {
		tr, err := compareTable(conn, t, latest[t.qualified()])
		if err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, tr)
	}
	return rep, nil
}

// topicTable is the newest image per key of one table, as read from Kafka.
type topicTable struct {
	rows  map[string]row // key -> row; nil row = deleted
	nokey int            // rows of a table without key: inserts - deletes
}

func readTopic(ctx context.Context, spec task.Spec, log *slog.Logger) (map[string]*topicTable, error) {
	topic := spec.Destination.Topic
	cl, err := kafka.NewConsumer(ctx, spec.Destination, log, kgo.NewOffset().AtStart(), topic)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	out := map[string]*topicTable{}
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) { ferr = fmt.Errorf("read %s[%d]: %w", t, p, err) })
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := remaining[r.Partition]
			if !ok || r.Offset >= end || ferr != nil {
				return
			}
			if r.Offset == end-1 {
				delete(remaining, r.Partition)
			}
			m, err := canaljson.Decode(r.Value)
			if err != nil {
				ferr = fmt.Errorf("%s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
				return
			}
			apply(out, m)
		})
		if ferr != nil {
			return nil, ferr
		}
	}
	return out, nil
}

func apply(out map[string]*topicTable, m canaljson.Message) {
	if m.IsDDL || len(m.Data) == 0 && len(m.Old) == 0 {
		return
	}
	q := m.Database + "." + m.Table
	tt := out[q]
	if tt == nil {
		tt = &topicTable{rows: map[string]row{}}
		out[q] = tt
	}
	img := m.Data
	if m.Type == "DELETE" && len(img) == 0 { // delete_in_old shape
		img = m.Old
	}
	for _, r := range img {
		if len(m.PKNames) == 0 {
			if m.Type == "DELETE" {
				tt.nokey--
			} else if m.Type != "UPDATE" {
				tt.nokey++
			}
			continue
		}
		k := keyOf(m.PKNames, r)
		if m.Type == "DELETE" {
			tt.rows[k] = nil
		} else {
			tt.rows[k] = r
		}
	}
}

func keyOf(pk []string, r row) string {
	var b strings.Builder
	for i, c := range pk {
		if i > 0 {
			b.WriteByte(0)
		}
		if v := r[c]; v != nil {
			b.WriteString(*v)
		}
	}
	return b.String()
}

func dialSource(ctx context.Context, spec task.Spec, sel *objects.Selector) (*client.Conn, error) {
	conn, err := pipelineDial(ctx, spec, sel)
	if err != nil {
		return nil, err
	}
	if z := spec.Source.TimeZone; z != "" {
		tz := z
		if strings.EqualFold(z, "UTC") {
			tz = "+00:00"
		}
		if _, err := conn.Execute("SET time_zone = '" + strings.ReplaceAll(tz, "'", "") + "'"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("set time_zone %s on the source (load its time zone tables, or use UTC): %w", z, err)
		}
	}
	return conn, nil
}

func pipelineDial(ctx context.Context, spec task.Spec, sel *objects.Selector) (*client.Conn, error) {
	return binlog.Dial(ctx, pipeline.SourceConfig(spec, sel))
}

type column struct {
	name, dataType string
}

type sourceTable struct {
	schema, name string
	columns      []column
	pk           []string
}

func (t sourceTable) qualified() string { return t.schema + "." + t.name }

func selectedTables(conn *client.Conn, sel *objects.Selector) ([]sourceTable, error) {
	r, err := conn.Execute(`SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []sourceTable
	for i := range r.RowNumber() {
		s, _ := r.GetString(i, 0)
		n, _ := r.GetString(i, 1)
		if sel.Table(s, n) {
			out = append(out, sourceTable{schema: s, name: n})
		}
	}
	for i := range out {
		t := &out[i]
		c, err := conn.Execute(`SELECT COLUMN_NAME, DATA_TYPE, COLUMN_KEY FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, t.schema, t.name)
		if err != nil {
			return nil, fmt.Errorf("columns of %s: %w", t.qualified(), err)
		}
		for j := range c.RowNumber() {
			name, _ := c.GetString(j, 0)
			typ, _ := c.GetString(j, 1)
			t.columns = append(t.columns, column{name, strings.ToLower(typ)})
		}
		k, err := conn.Execute(`SELECT COLUMN_NAME FROM information_schema.STATISTICS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, t.schema, t.name)
		if err != nil {
			return nil, fmt.Errorf("primary key of %s: %w", t.qualified(), err)
		}
		for j := range k.RowNumber() {
			name, _ := k.GetString(j, 0)
			t.pk = append(t.pk, name)
		}
	}
	return out, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func compareTable(conn *client.Conn, t sourceTable, tt *topicTable) (TableReport, error) {
	tr := TableReport{Schema: t.schema, Table: t.name, NoKey: len(t.pk) == 0}
	if tt == nil {
		tt = &topicTable{rows: map[string]row{}}
	}
	for _, r := range tt.rows {
		if r != nil {
			tr.TopicRows++
		}
	}
	if tr.NoKey {
		tr.TopicRows = tt.nokey
	}
	seen := map[string]bool{}
	var res mysql.Result
	err := conn.ExecuteSelectStreaming("SELECT * FROM "+quoteIdent(t.schema)+"."+quoteIdent(t.name), &res,
		func(vals []mysql.FieldValue) error {
			tr.SourceRows++
			if tr.NoKey {
				return nil
			}
			src := make(row, len(t.columns))
			for i, c := range t.columns {
				src[c.name] = render(c.dataType, vals[i])
			}
			k := keyOf(t.pk, src)
			seen[k] = true
			got := tt.rows[k]
			if got == nil {
				tr.Missing++
				tr.sample("missing from the topic: key %s", printable(k))
				return nil
			}
			for _, c := range t.columns {
				if !sameValue(c.dataType, src[c.name], got[c.name]) {
					tr.Different++
					tr.sample("key %s column %s: source %s, topic %s", printable(k), c.name, show(src[c.name]), show(got[c.name]))
					break
				}
			}
			return nil
		}, nil)
	if err != nil {
		return tr, fmt.Errorf("read %s: %w", t.qualified(), err)
	}
	keys := make([]string, 0)
	for k, r := range tt.rows {
		if r != nil && !seen[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	tr.Extra = len(keys)
	for _, k := range keys {
		tr.sample("in the topic, not in the source: key %s", printable(k))
	}
	return tr, nil
}

func (tr *TableReport) sample(format string, args ...any) {
	if len(tr.Samples) < maxSamples {
		tr.Samples = append(tr.Samples, fmt.Sprintf(format, args...))
	}
}

// render turns a result value into the string Canal JSON carries.
func render(dataType string, v mysql.FieldValue) *string {
	var b []byte
	switch v.Type {
	case mysql.FieldValueTypeNull:
		return nil
	case mysql.FieldValueTypeSigned:
		b = strconv.AppendInt(nil, v.AsInt64(), 10)
	case mysql.FieldValueTypeUnsigned:
		b = strconv.AppendUint(nil, v.AsUint64(), 10)
	case mysql.FieldValueTypeFloat:
		b = strconv.AppendFloat(nil, v.AsFloat64(), 'g', -1, 64)
	default:
		b = v.AsString()
	}
	var s string
	switch dataType {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		s = string(r)
	case "year":
		s = fmt.Sprintf("%04s", b)
	case "bit":
		var n uint64
		for _, c := range b {
			n = n<<8 | uint64(c)
		}
		s = strconv.FormatUint(n, 10)
	default:
		s = string(b)
	}
	return &s
}

// sameValue compares a source value with a topic value; floating-point
// columns compare as numbers at their width, everything else as text.
func sameValue(dataType string, a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if *a == *b {
		return true
	}
	if dataType == "float" || dataType == "double" {
		x, err1 := strconv.ParseFloat(*a, 64)
		y, err2 := strconv.ParseFloat(*b, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if dataType == "float" {
			// MariaDB prints FLOAT with 6 significant digits.
			return math.Abs(x-y) <= 1e-5*math.Max(math.Abs(x), math.Abs(y))
		}
		return x == y
	}
	return false
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

func printable(k string) string { return strings.ReplaceAll(k, "\x00", ",") }
