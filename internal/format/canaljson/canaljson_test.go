package canaljson

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/opendts/opendts/internal/cdc"
)

// orders is the table of the constructed examples in shared/formats/canal-json.
var orders = &cdc.Table{Schema: "shop", Name: "orders", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.BigInt, ColumnType: "bigint(20)", Key: true},
	{Name: "status", Type: cdc.VarChar, ColumnType: "varchar(32)"},
	{Name: "amount", Type: cdc.Decimal, ColumnType: "decimal(10,2)", Precision: 10, Scale: 2},
	{Name: "created_at", Type: cdc.DateTime, ColumnType: "datetime"},
	{Name: "note", Type: cdc.VarChar, ColumnType: "varchar(255)", Nullable: true},
}}

func orderRow(id int64, status, amount, created string, note *string) cdc.Row {
	n := cdc.NullValue
	if note != nil {
		n = cdc.StringValue(*note)
	}
	return cdc.Row{cdc.IntValue(id), cdc.StringValue(status), cdc.StringValue(amount), cdc.StringValue(created), n}
}

// docTable is the table of the DTS documentation's examples.
var docTable = &cdc.Table{Schema: "dbname", Name: "tablename", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.BigInt, ColumnType: "bigint(20)", Key: true},
	{Name: "shipping_type", Type: cdc.VarChar, ColumnType: "varchar(50)", Nullable: true},
}}

func ptr(s string) *string { return &s }

// encodeAt encodes ev with the given first id and a clock stuck at tsMillis,
// and checks that the output is valid JSON.
func encodeAt(t testing.TB, opts Options, ev *cdc.Event, id uint64, tsMillis int64) []byte {
	t.Helper()
	opts.FirstID = id
	opts.Now = func() time.Time { return time.UnixMilli(tsMillis) }
	out, err := New(opts).AppendValue(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatalf("invalid JSON: %s", out)
	}
	return out
}

// sharedDir holds the reference messages when the repository sits beside
// the shared workspace; testdata/canal-json holds copies so that the tests
// also run without it.
const sharedDir = "../../../../shared/formats/canal-json"

// reference returns a reference message from testdata/canal-json, and
// checks that the copy still matches shared/formats/canal-json if present.
func reference(t *testing.T, name string) []byte {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", "canal-json", name))
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(filepath.Join(sharedDir, name))
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Logf("%s: no %s; using the copy in testdata", name, sharedDir)
	case err != nil:
		t.Fatal(err)
	case !bytes.Equal(shared, want):
		t.Errorf("testdata/canal-json/%s differs from %s/%s; copy it again", name, sharedDir, name)
	}
	return want
}

// TestDTSExamples checks our output, indented as the reference file is,
// byte for byte against the reference messages: the constructed shop.orders
// examples and the verbatim DTS documentation examples.
func TestDTSExamples(t *testing.T) {
	created := "2024-05-01 10:00:00"
	cases := []struct {
		file   string
		opts   Options
		indent string
		ev     *cdc.Event
		id     uint64
		ts     int64
	}{
		{"insert.json", Options{}, "  ", &cdc.Event{Op: cdc.Insert, Table: orders,
			After: orderRow(1001, "NEW", "12.50", created, nil), Commit: time.UnixMilli(1714557600000)}, 1201, 1714557600231},
		{"update.json", Options{}, "  ", &cdc.Event{Op: cdc.Update, Table: orders,
			Before: orderRow(1001, "NEW", "12.50", created, nil),
			After:  orderRow(1001, "PAID", "12.50", created, ptr("paid by card")), Commit: time.UnixMilli(1714557660000)}, 1202, 1714557660118},
		{"delete.json", Options{}, "  ", &cdc.Event{Op: cdc.Delete, Table: orders,
			Before: orderRow(1001, "PAID", "12.50", created, ptr("paid by card")), Commit: time.UnixMilli(1714557720000)}, 1203, 1714557720090},
		{"ddl.json", Options{}, "  ", &cdc.Event{Op: cdc.DDL, Table: &cdc.Table{Schema: "shop", Name: "orders"}, Database: "shop",
			DDL: "ALTER TABLE `orders` ADD COLUMN `channel` varchar(16) NULL", Commit: time.UnixMilli(1714557780000)}, 1204, 1714557780044},
		{"init-full-stage.json", Options{}, "  ", &cdc.Event{Op: cdc.Read, Table: orders,
			After: orderRow(1000, "SHIPPED", "99.00", "2024-04-30 09:12:01", nil), Commit: time.UnixMilli(1714550000000)}, 17, 1714550000512},

		// The DTS documentation's own examples (es has second precision:
		// the commit's milliseconds are dropped).
		{"dts-doc-2021-update.json", Options{MySQLTypeWithLength: true}, "  ", &cdc.Event{Op: cdc.Update, Table: docTable,
			Before: cdc.Row{cdc.IntValue(500000287), cdc.StringValue("aaa")}, After: cdc.Row{cdc.IntValue(500000287), cdc.NullValue},
			Commit: time.UnixMilli(1600161894999)}, 58, 1600161894771},
		{"dts-doc-delete-since-2022-03-20.json", Options{OmitNullMembers: true}, "    ", &cdc.Event{Op: cdc.Delete, Table: docTable,
			Before: cdc.Row{cdc.IntValue(500000287), cdc.NullValue}, Commit: time.UnixMilli(1600161894000)}, 58, 1600161894771},
		{"dts-doc-ddl.json", Options{}, "    ", &cdc.Event{Op: cdc.DDL, Table: &cdc.Table{Schema: "dbname", Name: "tablename"},
			Database: "dbname", DDL: "eg:createxxx", Commit: time.UnixMilli(1600161894000)}, 58, 1600161894771},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			want := reference(t, c.file)
			out := encodeAt(t, c.opts, c.ev, c.id, c.ts)
			var ind bytes.Buffer
			if err := json.Indent(&ind, out, "", c.indent); err != nil {
				t.Fatal(err)
			}
			if got := ind.String(); got != strings.TrimRight(string(want), "\n") {
				t.Errorf("differs from the reference:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestDTSDeleteBefore20220320 checks the pre-2022 DELETE shape against the
// documentation's example. That example was edited by hand (old comes
// first, and its row is the UPDATE example's old), so members are compared
// by name and the row only by its place.
func TestDTSDeleteBefore20220320(t *testing.T) {
	var want map[string]json.RawMessage
	if err := json.Unmarshal(reference(t, "dts-doc-delete-before-2022-03-20.json"), &want); err != nil {
		t.Fatal(err)
	}
	ev := &cdc.Event{Op: cdc.Delete, Table: docTable, Before: cdc.Row{cdc.IntValue(500000287), cdc.StringValue("aaa")},
		Commit: time.UnixMilli(1600161894000)}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(encodeAt(t, Options{DeleteInOld: true, OmitNullMembers: true}, ev, 58, 1600161894771), &got); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("member %s missing", k)
		} else if k != "old" && string(got[k]) != compact(t, want[k]) {
			t.Errorf("%s = %s, want %s", k, got[k], compact(t, want[k]))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("member %s not in the example", k)
		}
	}
	if string(got["old"]) != `[{"id":"500000287","shipping_type":"aaa"}]` {
		t.Errorf("old = %s", got["old"])
	}
}

func compact(t *testing.T, b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestOptions checks each option's effect on the shape.
func TestOptions(t *testing.T) {
	row := orderRow(1, "X", "1.00", "2024-05-01 10:00:00", nil)
	del := &cdc.Event{Op: cdc.Delete, Table: orders, Before: row, Commit: time.Unix(1, 0)}
	ins := &cdc.Event{Op: cdc.Insert, Table: orders, After: row, Commit: time.Unix(1, 0)}
	noKey := &cdc.Table{Schema: "s", Name: "t", Columns: []cdc.Column{{Name: "b", Type: cdc.Blob, ColumnType: "blob"}}}
	bin := &cdc.Event{Op: cdc.Insert, Table: noKey, After: cdc.Row{cdc.BytesValue([]byte{0, 0x41, 0x85, 0xe9, 0xff})}}
	cases := []struct {
		name    string
		opts    Options
		ev      *cdc.Event
		want    []string
		notWant []string
	}{
		{"delete in data", Options{}, del, []string{`{"data":[{"id":"1",`, `"old":null,`}, nil},
		{"delete in old", Options{DeleteInOld: true}, del, []string{`{"data":null,"database":"shop"`, `"old":[{"id":"1",`}, nil},
		{"delete in old, omit nulls", Options{DeleteInOld: true, OmitNullMembers: true}, del,
			[]string{`{"database":"shop"`, `"old":[{"id":"1",`}, []string{`"data"`}},
		{"omit nulls", Options{OmitNullMembers: true}, ins, []string{`"mysqlType":{"id":"bigint",`, `},"pkNames":["id"],`}, []string{`"old"`}},
		{"with length", Options{MySQLTypeWithLength: true}, ins,
			[]string{`"mysqlType":{"id":"bigint(20)","status":"varchar(32)","amount":"decimal(10,2)","created_at":"datetime",`}, nil},
		{"latin1", Options{}, bin, []string{`"b":"\u0000A\u0085éÿ"`, `"pkNames":null,`}, nil},
		{"latin1 named", Options{BinaryEncoding: "latin1"}, bin, []string{`"b":"\u0000A\u0085éÿ"`}, nil},
		{"base64", Options{BinaryEncoding: "base64"}, bin, []string{`"b":"AEGF6f8="`}, nil},
		{"hex", Options{BinaryEncoding: "hex"}, bin, []string{`"b":"004185e9ff"`}, nil},
		{"no key, omit nulls", Options{OmitNullMembers: true}, bin, []string{`"mysqlType":{"b":"blob"},"sql":""`}, []string{"pkNames"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.opts.Validate(); err != nil {
				t.Fatal(err)
			}
			out := string(encodeAt(t, c.opts, c.ev, 1, 0))
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s\nlacks %s", out, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("%s\nhas %s", out, w)
				}
			}
		})
	}
	if err := (&Options{BinaryEncoding: "base32"}).Validate(); err == nil || !strings.Contains(err.Error(), `binary_encoding: "base32"`) {
		t.Errorf("Validate(base32) = %v", err)
	}
}

// TestShape covers the members that depend on the table and the images.
func TestShape(t *testing.T) {
	composite := &cdc.Table{Schema: "s", Name: "t", PK: []int{2, 0}, Columns: []cdc.Column{
		{Name: "a", Type: cdc.Int}, {Name: "b", Type: cdc.Int}, {Name: "c", Type: cdc.VarChar}}}
	row := cdc.Row{cdc.IntValue(1), cdc.IntValue(2), cdc.StringValue("x")}
	cases := []struct {
		name string
		ev   *cdc.Event
		want string
	}{
		{"key order", &cdc.Event{Op: cdc.Insert, Table: composite, After: row}, `"pkNames":["c","a"],`},
		{"update without change", &cdc.Event{Op: cdc.Update, Table: composite, Before: row, After: row}, `"old":[{}],`},
		{"update without before image", &cdc.Event{Op: cdc.Update, Table: composite, After: row}, `"old":null,`},
		{"es zero time", &cdc.Event{Op: cdc.Insert, Table: composite, After: row}, `"es":0,`},
		{"es seconds", &cdc.Event{Op: cdc.Read, Table: composite, After: row, Commit: time.UnixMilli(1714557600999)}, `"es":1714557600000,`},
		{"database DDL", &cdc.Event{Op: cdc.DDL, Database: "s", DDL: "DROP DATABASE s"},
			`{"database":"s","es":0,"id":1,"isDdl":true,"sql":"DROP DATABASE s","table":"","ts":0,"type":"DDL"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if out := encodeAt(t, Options{}, c.ev, 1, 0); !strings.Contains(string(out), c.want) {
				t.Errorf("%s\nlacks %s", out, c.want)
			}
		})
	}
}

// TestIDs checks that ids count successful messages, rows and DDL alike.
func TestIDs(t *testing.T) {
	e := New(Options{Now: func() time.Time { return time.UnixMilli(0) }})
	ins := &cdc.Event{Op: cdc.Insert, Table: orders, After: orderRow(1, "X", "1", "t", nil)}
	bad := &cdc.Event{Op: cdc.Insert, Table: orders, After: cdc.Row{cdc.IntValue(1)}}
	var ids []uint64
	for _, ev := range []*cdc.Event{ins, bad, {Op: cdc.DDL, DDL: "x"}, {Op: cdc.Commit}, ins} {
		out, err := e.AppendValue(nil, ev)
		if err != nil {
			continue
		}
		m, err := Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []uint64{1, 2, 3}) {
		t.Errorf("ids = %v, want [1 2 3]", ids)
	}
}

// TestErrors checks that bad events are refused and leave dst unchanged.
func TestErrors(t *testing.T) {
	badKey := &cdc.Table{Schema: "s", Name: "t", PK: []int{3}, Columns: []cdc.Column{{Name: "a", Type: cdc.Int}}}
	cases := []struct {
		name string
		ev   *cdc.Event
		want string
	}{
		{"commit", &cdc.Event{Op: cdc.Commit}, "COMMIT"},
		{"unknown op", &cdc.Event{Op: 99, Table: orders}, "UNKNOWN"},
		{"no table", &cdc.Event{Op: cdc.Insert, After: cdc.Row{cdc.IntValue(1)}}, "without a table"},
		{"short row", &cdc.Event{Op: cdc.Insert, Table: orders, After: cdc.Row{cdc.IntValue(1)}}, "shop.orders: row has 1 values for 5 columns"},
		{"long before", &cdc.Event{Op: cdc.Update, Table: orders, After: orderRow(1, "", "", "", nil),
			Before: append(orderRow(1, "", "", "", nil), cdc.NullValue)}, "row has 6 values"},
		{"key index", &cdc.Event{Op: cdc.Insert, Table: badKey, After: cdc.Row{cdc.IntValue(1)}}, "key column index 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := []byte("prefix")
			out, err := New(Options{}).AppendValue(dst, c.ev)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to contain %q", err, c.want)
			}
			if string(out) != "prefix" {
				t.Errorf("dst changed to %q", out)
			}
		})
	}
}

// TestEscaping checks JSON string escaping of text, binary, ENUM/SET member
// names, names and DDL text against the expected bytes.
func TestEscaping(t *testing.T) {
	tbl := &cdc.Table{Schema: "d\"b", Name: "t\\1", Columns: []cdc.Column{
		{Name: "v\n", Type: cdc.VarChar},
		{Name: "b", Type: cdc.VarBinary},
		{Name: "e", Type: cdc.Enum, Elems: []string{"plain", "中\"文", "\x00\u2028"}},
		{Name: "s", Type: cdc.Set, Elems: []string{"x\\", "é", "z"}},
	}}
	cases := []struct {
		name string
		row  cdc.Row
		want string
	}{
		{"quotes and backslash", cdc.Row{cdc.StringValue(`a"b\c/`)}, `"v\n":"a\"b\\c/"`},
		{"controls", cdc.Row{cdc.StringValue("\x00\x01\b\f\t\r\n\x1f\x7f")}, `"v\n":"\u0000\u0001\u0008\u000c\t\r\n\u001f\u007f"`},
		{"C1 and separators", cdc.Row{cdc.StringValue("\u0085\u009f\u00a0\u2028\u2029")}, "\"v\\n\":\"\\u0085\\u009f\u00a0\\u2028\\u2029\""},
		{"html and emoji", cdc.Row{cdc.StringValue("<a&b> 😀 中文")}, `"v\n":"<a&b> 😀 中文"`},
		{"invalid utf-8", cdc.Row{cdc.TextValue([]byte("a\xffb\xed\xa0\x80c\xe4\xb8"))}, `"v\n":"a\ufffdb\ufffd\ufffd\ufffdc\ufffd\ufffd"`},
		{"latin1", cdc.Row{cdc.NullValue, cdc.BytesValue([]byte("\"\\\x00\x7f\x80\x9f\xa0\xe9\xff"))},
			"\"b\":\"\\\"\\\\\\u0000\\u007f\\u0080\\u009f\u00a0éÿ\""},
		{"enum plain", cdc.Row{cdc.NullValue, cdc.NullValue, cdc.UintValue(1)}, `"e":"plain"`},
		{"enum escaped", cdc.Row{cdc.NullValue, cdc.NullValue, cdc.UintValue(2)}, `"e":"中\"文"`},
		{"enum controls", cdc.Row{cdc.NullValue, cdc.NullValue, cdc.UintValue(3)}, `"e":"\u0000\u2028"`},
		{"enum error value", cdc.Row{cdc.NullValue, cdc.NullValue, cdc.UintValue(0)}, `"e":""`},
		{"set escaped", cdc.Row{cdc.NullValue, cdc.NullValue, cdc.NullValue, cdc.UintValue(7)}, `"s":"x\\,é,z"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := append(c.row, make(cdc.Row, len(tbl.Columns)-len(c.row))...)
			out := string(encodeAt(t, Options{}, &cdc.Event{Op: cdc.Insert, Table: tbl, After: row}, 1, 0))
			if !strings.Contains(out, c.want) {
				t.Errorf("%s\nlacks %s", out, c.want)
			}
			if !strings.Contains(out, `"database":"d\"b"`) || !strings.Contains(out, `"table":"t\\1"`) {
				t.Errorf("names not escaped: %s", out)
			}
		})
	}
	ddl := encodeAt(t, Options{}, &cdc.Event{Op: cdc.DDL, Database: "d", DDL: "CREATE TABLE `t` (\n\t`c` varchar(1) DEFAULT '\"'\n)"}, 1, 0)
	if want := "\"sql\":\"CREATE TABLE `t` (\\n\\t`c` varchar(1) DEFAULT '\\\"'\\n)\""; !strings.Contains(string(ddl), want) {
		t.Errorf("%s\nlacks %s", ddl, want)
	}
}

// TestAllocs checks that a warmed-up encoder allocates nothing per message,
// including ENUM names that need escaping.
func TestAllocs(t *testing.T) {
	tbl := &cdc.Table{Schema: "s", Name: "t", PK: []int{0}, Columns: []cdc.Column{
		{Name: "id", Type: cdc.BigInt}, {Name: "e", Type: cdc.Enum, Elems: []string{"中文"}},
		{Name: "b", Type: cdc.Blob}, {Name: "v", Type: cdc.VarChar}}}
	before := cdc.Row{cdc.IntValue(1), cdc.UintValue(1), cdc.BytesValue([]byte{0, 0xff}), cdc.StringValue("é\n")}
	after := cdc.Row{cdc.IntValue(1), cdc.UintValue(1), cdc.BytesValue([]byte{1}), cdc.StringValue("x")}
	for _, enc := range []string{"latin1", "base64", "hex"} {
		e := New(Options{BinaryEncoding: enc})
		buf := make([]byte, 0, 4096)
		evs := []*cdc.Event{
			{Op: cdc.Update, Table: tbl, Before: before, After: after},
			{Op: cdc.Insert, Table: orders, After: orderRow(1, "X", "1", "t", nil)},
			{Op: cdc.DDL, Database: "s", DDL: "DROP TABLE t"},
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, ev := range evs {
				var err error
				if buf, err = e.AppendValue(buf[:0], ev); err != nil {
					t.Fatal(err)
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", enc, allocs)
		}
	}
}
