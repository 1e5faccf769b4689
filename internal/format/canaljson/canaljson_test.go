package canaljson

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opendts/opendts/internal/cdc"
)

var update = flag.Bool("update", false, "rewrite golden files")

// orders is the table of the examples in shared/formats/canal-json.
var orders = &cdc.Table{Schema: "shop", Name: "orders", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.BigInt, ColumnType: "bigint(20)", Key: true},
	{Name: "status", Type: cdc.VarChar, ColumnType: "varchar(32)"},
	{Name: "amount", Type: cdc.Decimal, ColumnType: "decimal(10,2)"},
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

func ptr(s string) *string { return &s }

func encodeAt(t *testing.T, opts Options, ev *cdc.Event, id uint64, tsMillis int64) []byte {
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

// TestDTSExamples checks our output, indented, against the reference
// messages in testdata/dts-*.json (copied from shared/formats/canal-json).
func TestDTSExamples(t *testing.T) {
	created := "2024-05-01 10:00:00"
	cases := []struct {
		file string
		ev   *cdc.Event
		id   uint64
		ts   int64
	}{
		{"dts-insert.json", &cdc.Event{Op: cdc.Insert, Table: orders, After: orderRow(1001, "NEW", "12.50", created, nil),
			Commit: time.UnixMilli(1714557600000)}, 1201, 1714557600231},
		{"dts-update.json", &cdc.Event{Op: cdc.Update, Table: orders, Before: orderRow(1001, "NEW", "12.50", created, nil),
			After: orderRow(1001, "PAID", "12.50", created, ptr("paid by card")), Commit: time.UnixMilli(1714557660000)}, 1202, 1714557660118},
		{"dts-delete.json", &cdc.Event{Op: cdc.Delete, Table: orders, Before: orderRow(1001, "PAID", "12.50", created, ptr("paid by card")),
			Commit: time.UnixMilli(1714557720000)}, 1203, 1714557720090},
		{"dts-ddl.json", &cdc.Event{Op: cdc.DDL, Table: &cdc.Table{Schema: "shop", Name: "orders"}, Database: "shop",
			DDL: "ALTER TABLE `orders` ADD COLUMN `channel` varchar(16) NULL", Commit: time.UnixMilli(1714557780000)}, 1204, 1714557780044},
		{"dts-init-full-stage.json", &cdc.Event{Op: cdc.Read, Table: orders, After: orderRow(1000, "SHIPPED", "99.00", "2024-04-30 09:12:01", nil),
			Commit: time.UnixMilli(1714550000000)}, 17, 1714550000512},
	}
	for _, c := range cases {
		out := encodeAt(t, Options{}, c.ev, c.id, c.ts)
		var ind bytes.Buffer
		if err := json.Indent(&ind, out, "", "  "); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		if got := ind.String(); strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
			t.Errorf("%s differs:\n got: %s\nwant: %s", c.file, got, want)
		}
	}
}

// TestOptions checks each option's effect on the shape.
func TestOptions(t *testing.T) {
	del := &cdc.Event{Op: cdc.Delete, Table: orders, Before: orderRow(1, "X", "1.00", "2024-05-01 10:00:00", nil), Commit: time.Unix(1, 0)}
	out := string(encodeAt(t, Options{DeleteInOld: true, OmitNullMembers: true}, del, 1, 0))
	if strings.Contains(out, `"data"`) || !strings.HasPrefix(out, `{"database":"shop"`) || !strings.Contains(out, `"old":[{"id":"1"`) {
		t.Errorf("DeleteInOld+OmitNullMembers: %s", out)
	}
	ins := &cdc.Event{Op: cdc.Insert, Table: orders, After: del.Before, Commit: time.Unix(1, 0)}
	out = string(encodeAt(t, Options{MySQLTypeWithLength: true}, ins, 1, 0))
	if !strings.Contains(out, `"mysqlType":{"id":"bigint(20)","status":"varchar(32)","amount":"decimal(10,2)"`) {
		t.Errorf("MySQLTypeWithLength: %s", out)
	}
	noKey := &cdc.Table{Schema: "s", Name: "t", Columns: []cdc.Column{{Name: "b", Type: cdc.Blob}}}
	bin := &cdc.Event{Op: cdc.Insert, Table: noKey, After: cdc.Row{cdc.BytesValue([]byte{0, 0x41, 0xe9, 0xff})}}
	for enc, want := range map[string]string{"": `"b":"\u0000Aéÿ"`, "base64": `"b":"AEHp/w=="`, "hex": `"b":"0041e9ff"`} {
		out := string(encodeAt(t, Options{BinaryEncoding: enc}, bin, 1, 0))
		if !strings.Contains(out, want) || !strings.Contains(out, `"pkNames":null`) {
			t.Errorf("binary %q: %s, want %s", enc, out, want)
		}
	}
	if out := string(encodeAt(t, Options{OmitNullMembers: true}, bin, 1, 0)); strings.Contains(out, "pkNames") {
		t.Errorf("OmitNullMembers kept pkNames: %s", out)
	}
}

// allTypes is one table with every MySQL type.
var allTypes = &cdc.Table{Schema: "db", Name: "all_types", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.Int, Key: true},
	{Name: "ti", Type: cdc.TinyInt}, {Name: "tiu", Type: cdc.TinyInt, Unsigned: true},
	{Name: "si", Type: cdc.SmallInt}, {Name: "siu", Type: cdc.SmallInt, Unsigned: true},
	{Name: "mi", Type: cdc.MediumInt}, {Name: "miu", Type: cdc.MediumInt, Unsigned: true},
	{Name: "i", Type: cdc.Int}, {Name: "iu", Type: cdc.Int, Unsigned: true},
	{Name: "bi", Type: cdc.BigInt}, {Name: "biu", Type: cdc.BigInt, Unsigned: true},
	{Name: "dec", Type: cdc.Decimal, Precision: 65, Scale: 30}, {Name: "dec2", Type: cdc.Decimal, Precision: 10, Scale: 2},
	{Name: "f", Type: cdc.Float}, {Name: "d", Type: cdc.Double},
	{Name: "b1", Type: cdc.Bit, Length: 1}, {Name: "b64", Type: cdc.Bit, Length: 64},
	{Name: "dt", Type: cdc.Date}, {Name: "tm", Type: cdc.Time, FSP: 6}, {Name: "dtm", Type: cdc.DateTime, FSP: 3},
	{Name: "ts", Type: cdc.Timestamp, FSP: 6}, {Name: "zd", Type: cdc.DateTime}, {Name: "y", Type: cdc.Year},
	{Name: "c", Type: cdc.Char}, {Name: "vc", Type: cdc.VarChar}, {Name: "tx", Type: cdc.Text},
	{Name: "l1", Type: cdc.VarChar, Charset: "latin1"},
	{Name: "bn", Type: cdc.Binary, Length: 4}, {Name: "vb", Type: cdc.VarBinary}, {Name: "bl", Type: cdc.Blob},
	{Name: "e", Type: cdc.Enum, Elems: []string{"small", "large"}}, {Name: "st", Type: cdc.Set, Elems: []string{"a", "b", "c"}},
	{Name: "j", Type: cdc.JSON}, {Name: "g", Type: cdc.Geometry, TypeName: "point"}, {Name: "n", Type: cdc.VarChar, Nullable: true},
}}

func allTypesRow() cdc.Row {
	s := cdc.StringValue
	return cdc.Row{
		cdc.IntValue(1),
		cdc.IntValue(-128), cdc.UintValue(255), cdc.IntValue(-32768), cdc.UintValue(65535),
		cdc.IntValue(-8388608), cdc.UintValue(16777215), cdc.IntValue(-2147483648), cdc.UintValue(4294967295),
		cdc.IntValue(-9223372036854775808), cdc.UintValue(18446744073709551615),
		s("-99999999999999999999999999999999999.999999999999999999999999999999"), s("-12.50"),
		cdc.FloatValue(float64(float32(3.14))), cdc.FloatValue(-1.7976931348623157e308),
		cdc.UintValue(1), cdc.UintValue(18446744073709551615),
		s("2024-02-29"), s("-838:59:59.000000"), s("2024-05-01 10:00:00.120"),
		cdc.Value{Kind: cdc.KindText, Int: 1714557600123456, Bytes: []byte("2024-05-01 10:00:00.123456")},
		s("0000-00-00 00:00:00"), cdc.IntValue(0),
		s("fixed"), s("emoji 😀 \"quoted\" back\\slash\nnew line\ttab \u2028"), s("<html>&amp;</html>"),
		s("café"),
		cdc.BytesValue([]byte{0x00, 0x7f, 0x80, 0xff}), cdc.BytesValue([]byte("bytes")), cdc.BytesValue([]byte{0xde, 0xad, 0xbe, 0xef}),
		cdc.UintValue(2), cdc.UintValue(5),
		s(`{"a": [1, 2.5, "x"], "b": null}`),
		cdc.BytesValue([]byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}),
		cdc.NullValue,
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("%s changed:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestGoldenAllTypes(t *testing.T) {
	row := allTypesRow()
	changed := append(cdc.Row(nil), row...)
	changed[7] = cdc.IntValue(42)
	changed[34] = cdc.StringValue("now set")
	commit := time.Unix(1714557600, 500_000_000)
	cases := map[string]*cdc.Event{
		"all-types-insert": {Op: cdc.Insert, Table: allTypes, After: row, Commit: commit},
		"all-types-update": {Op: cdc.Update, Table: allTypes, Before: row, After: changed, Commit: commit},
		"all-types-delete": {Op: cdc.Delete, Table: allTypes, Before: row, Commit: commit},
		"all-types-init":   {Op: cdc.Read, Table: allTypes, After: row, Commit: commit},
		"ddl-create": {Op: cdc.DDL, Database: "db", Table: &cdc.Table{Schema: "db", Name: "all_types"}, Commit: commit,
			DDL: "CREATE TABLE `all_types` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n)"},
		"ddl-database": {Op: cdc.DDL, Database: "db", DDL: "CREATE DATABASE db", Commit: commit},
	}
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			golden(t, name, encodeAt(t, Options{}, ev, 7, 1714557600999))
		})
	}
}

// TestDecodesBack checks every value survives a standard JSON decoder.
func TestDecodesBack(t *testing.T) {
	row := allTypesRow()
	out := encodeAt(t, Options{}, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: row}, 1, 0)
	var m struct {
		Data []map[string]*string `json:"data"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	for i, c := range allTypes.Columns {
		got := m.Data[0][c.Name]
		v := row[i]
		switch {
		case v.IsNull():
			if got != nil {
				t.Errorf("%s = %q, want null", c.Name, *got)
			}
		case v.Kind == cdc.KindBytes:
			if got == nil || len([]rune(*got)) != len(v.Bytes) {
				t.Errorf("%s: latin1 text of %d bytes decoded to %v", c.Name, len(v.Bytes), got)
			}
		default:
			if want := string(v.AppendText(nil, &c)); got == nil || *got != want {
				t.Errorf("%s = %v, want %q", c.Name, got, want)
			}
		}
	}
}

func FuzzAppendValue(f *testing.F) {
	f.Add([]byte("plain"), []byte{0xff, 0x00})
	f.Add([]byte("\xed\xa0\x80 \u2028 \"\\"), []byte("x"))
	tbl := &cdc.Table{Schema: "s\"", Name: "t\x01", PK: []int{0}, Columns: []cdc.Column{
		{Name: "k\n", Type: cdc.VarChar}, {Name: "b", Type: cdc.Blob}, {Name: "e", Type: cdc.Enum, Elems: []string{"\x00\"é"}}}}
	f.Fuzz(func(t *testing.T, text, bin []byte) {
		for _, enc := range []string{"", "base64", "hex"} {
			e := New(Options{BinaryEncoding: enc})
			ev := &cdc.Event{Op: cdc.Update, Table: tbl,
				Before: cdc.Row{cdc.TextValue(bin), cdc.BytesValue(text), cdc.UintValue(1)},
				After:  cdc.Row{cdc.TextValue(text), cdc.BytesValue(bin), cdc.UintValue(uint64(len(text)))}}
			out, err := e.AppendValue(nil, ev)
			if err != nil || !json.Valid(out) {
				t.Fatalf("err=%v valid=%v: %q", err, json.Valid(out), out)
			}
			ddl, _ := e.AppendValue(nil, &cdc.Event{Op: cdc.DDL, Database: string(text), DDL: string(bin)})
			if !json.Valid(ddl) {
				t.Fatalf("invalid DDL JSON: %q", ddl)
			}
		}
	})
}

func BenchmarkAppendValue(b *testing.B) {
	row := orderRow(1001, "PAID", "12.50", "2024-05-01 10:00:00", ptr("paid by card"))
	wide := &cdc.Table{Schema: "shop", Name: "orders", PK: []int{0}, Columns: append(append([]cdc.Column(nil), orders.Columns...), orders.Columns[1:]...)}
	for i := 5; i < len(wide.Columns); i++ {
		wide.Columns[i].Name += "_2"
	}
	ev := &cdc.Event{Op: cdc.Insert, Table: wide, After: append(append(cdc.Row(nil), row...), row[1:]...), Commit: time.Unix(1714557600, 0)}
	e := New(Options{})
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = e.AppendValue(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
}
