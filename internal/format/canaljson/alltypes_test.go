package canaljson

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opendts/opendts/internal/cdc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// allTypes is one table with every MySQL type, as the source describes it.
var allTypes = &cdc.Table{Schema: "db", Name: "all_types", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.Int, ColumnType: "int(11)", Key: true},
	{Name: "ti", Type: cdc.TinyInt, ColumnType: "tinyint(4)", Nullable: true},
	{Name: "tiu", Type: cdc.TinyInt, ColumnType: "tinyint(3) unsigned", Unsigned: true, Nullable: true},
	{Name: "si", Type: cdc.SmallInt, ColumnType: "smallint(6)", Nullable: true},
	{Name: "siu", Type: cdc.SmallInt, ColumnType: "smallint(5) unsigned", Unsigned: true, Nullable: true},
	{Name: "mi", Type: cdc.MediumInt, ColumnType: "mediumint(9)", Nullable: true},
	{Name: "miu", Type: cdc.MediumInt, ColumnType: "mediumint(8) unsigned", Unsigned: true, Nullable: true},
	{Name: "i", Type: cdc.Int, ColumnType: "int(11)", Nullable: true},
	{Name: "iu", Type: cdc.Int, ColumnType: "int(10) unsigned", Unsigned: true, Nullable: true},
	{Name: "bi", Type: cdc.BigInt, ColumnType: "bigint(20)", Nullable: true},
	{Name: "biu", Type: cdc.BigInt, ColumnType: "bigint(20) unsigned", Unsigned: true, Nullable: true},
	{Name: "flag", Type: cdc.TinyInt, ColumnType: "tinyint(1)", Nullable: true},
	{Name: "dec", Type: cdc.Decimal, ColumnType: "decimal(65,30)", Precision: 65, Scale: 30, Nullable: true},
	{Name: "dec2", Type: cdc.Decimal, ColumnType: "decimal(10,2) unsigned", Precision: 10, Scale: 2, Unsigned: true, Nullable: true},
	{Name: "f", Type: cdc.Float, ColumnType: "float", Nullable: true},
	{Name: "d", Type: cdc.Double, ColumnType: "double", Nullable: true},
	{Name: "b1", Type: cdc.Bit, ColumnType: "bit(1)", Length: 1, Nullable: true},
	{Name: "b64", Type: cdc.Bit, ColumnType: "bit(64)", Length: 64, Nullable: true},
	{Name: "dt", Type: cdc.Date, ColumnType: "date", Nullable: true},
	{Name: "tm", Type: cdc.Time, ColumnType: "time(6)", FSP: 6, Nullable: true},
	{Name: "dtm", Type: cdc.DateTime, ColumnType: "datetime(3)", FSP: 3, Nullable: true},
	{Name: "ts", Type: cdc.Timestamp, ColumnType: "timestamp(6)", FSP: 6, Nullable: true},
	{Name: "zd", Type: cdc.Date, ColumnType: "date", Nullable: true},
	{Name: "zdt", Type: cdc.DateTime, ColumnType: "datetime", Nullable: true},
	{Name: "y", Type: cdc.Year, ColumnType: "year(4)", Nullable: true},
	{Name: "c", Type: cdc.Char, ColumnType: "char(10)", Charset: "utf8mb4", Length: 10, Nullable: true},
	{Name: "vc", Type: cdc.VarChar, ColumnType: "varchar(255)", Charset: "utf8mb4", Length: 255, Nullable: true},
	{Name: "tt", Type: cdc.TinyText, ColumnType: "tinytext", Charset: "utf8mb4", Nullable: true},
	{Name: "tx", Type: cdc.Text, ColumnType: "text", Charset: "utf8mb4", Nullable: true},
	{Name: "mt", Type: cdc.MediumText, ColumnType: "mediumtext", Charset: "utf8mb4", Nullable: true},
	{Name: "lt", Type: cdc.LongText, ColumnType: "longtext", Charset: "utf8mb4", Nullable: true},
	{Name: "l1", Type: cdc.VarChar, ColumnType: "varchar(20)", Charset: "latin1", Length: 20, Nullable: true},
	{Name: "bn", Type: cdc.Binary, ColumnType: "binary(4)", Charset: "binary", Length: 4, Nullable: true},
	{Name: "vb", Type: cdc.VarBinary, ColumnType: "varbinary(16)", Charset: "binary", Length: 16, Nullable: true},
	{Name: "tb", Type: cdc.TinyBlob, ColumnType: "tinyblob", Charset: "binary", Nullable: true},
	{Name: "bl", Type: cdc.Blob, ColumnType: "blob", Charset: "binary", Nullable: true},
	{Name: "mb", Type: cdc.MediumBlob, ColumnType: "mediumblob", Charset: "binary", Nullable: true},
	{Name: "lb", Type: cdc.LongBlob, ColumnType: "longblob", Charset: "binary", Nullable: true},
	{Name: "e", Type: cdc.Enum, ColumnType: "enum('small','large','中文')", Elems: []string{"small", "large", "中文"}, Nullable: true},
	{Name: "st", Type: cdc.Set, ColumnType: "set('a','b','c')", Elems: []string{"a", "b", "c"}, Nullable: true},
	{Name: "j", Type: cdc.JSON, ColumnType: "json", Nullable: true},
	{Name: "g", Type: cdc.Geometry, TypeName: "point", ColumnType: "point", Nullable: true},
	{Name: "gg", Type: cdc.Geometry, TypeName: "geometry", ColumnType: "geometry", Nullable: true},
	{Name: "n", Type: cdc.VarChar, ColumnType: "varchar(10)", Nullable: true},
}}

// point12 is POINT(1 2) as MySQL stores it: SRID 0, then WKB.
var point12 = []byte{0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}

func every256() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// allTypesRow has the signed integers at their minimum and the unsigned at
// their maximum; allTypesRow2 swaps to the other ends.
func allTypesRow() cdc.Row {
	s := cdc.StringValue
	return cdc.Row{
		cdc.IntValue(1),
		cdc.IntValue(-128), cdc.UintValue(255), cdc.IntValue(-32768), cdc.UintValue(65535),
		cdc.IntValue(-8388608), cdc.UintValue(16777215), cdc.IntValue(-2147483648), cdc.UintValue(4294967295),
		cdc.IntValue(-9223372036854775808), cdc.UintValue(18446744073709551615), cdc.IntValue(1),
		s("-99999999999999999999999999999999999.999999999999999999999999999999"), s("12.50"),
		cdc.FloatValue(float64(float32(3.14))), cdc.FloatValue(-1.7976931348623157e308),
		cdc.UintValue(1), cdc.UintValue(18446744073709551615),
		s("2024-02-29"), s("-838:59:59.000000"), s("2024-05-01 10:00:00.120"),
		cdc.Value{Kind: cdc.KindText, Int: 1714557600123456, Bytes: []byte("2024-05-01 10:00:00.123456")},
		s("0000-00-00"), s("0000-00-00 00:00:00"), cdc.IntValue(0),
		s("fixed"), s("emoji 😀 \"quoted\" back\\slash\nnew line\ttab \u2028 \u2029 \x01 \x7f \u0085 中文"), s(""),
		s("<html>&amp;</html>"), s(strings.Repeat("long ", 20)), s("/* slash / */"),
		s("café"),
		cdc.BytesValue([]byte{0x00, 0x7f, 0x80, 0xff}), cdc.BytesValue([]byte("bytes")), cdc.BytesValue([]byte{}),
		cdc.BytesValue([]byte{0xde, 0xad, 0xbe, 0xef}), cdc.BytesValue(every256()), cdc.BytesValue([]byte(`"quoted\"`)),
		cdc.UintValue(3), cdc.UintValue(5),
		s(`{"a": [1, 2.5, "x"], "b": null, "c": "\u00e9\n"}`),
		cdc.BytesValue(point12), cdc.BytesValue(point12),
		cdc.NullValue,
	}
}

func allTypesRow2() cdc.Row {
	r := allTypesRow()
	s := cdc.StringValue
	copy(r[1:12], cdc.Row{cdc.IntValue(127), cdc.UintValue(0), cdc.IntValue(32767), cdc.UintValue(0),
		cdc.IntValue(8388607), cdc.UintValue(0), cdc.IntValue(2147483647), cdc.UintValue(0),
		cdc.IntValue(9223372036854775807), cdc.UintValue(0), cdc.IntValue(0)})
	r[12] = s("99999999999999999999999999999999999.999999999999999999999999999999")
	r[14], r[15] = cdc.FloatValue(float64(float32(-1e-20))), cdc.FloatValue(1e20)
	r[16], r[17] = cdc.UintValue(0), cdc.UintValue(5)
	r[19] = s("00:00:00.500000")
	r[21] = cdc.Value{Kind: cdc.KindText, Bytes: []byte("0000-00-00 00:00:00.000000")}
	r[24] = cdc.IntValue(2155)
	r[26] = s("changed")
	r[38], r[39] = cdc.UintValue(0), cdc.UintValue(0)
	r[40] = s("null") // the JSON document null, not SQL NULL
	r[43] = s("was null")
	return r
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/format/... -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s changed:\n got: %s\nwant: %s", path, got, want)
	}
}

// TestGolden pins the all-types table in every message kind and option.
func TestGolden(t *testing.T) {
	row, row2 := allTypesRow(), allTypesRow2()
	commit := time.Unix(1714557600, 500_000_000) // es drops the half second
	cases := []struct {
		name string
		opts Options
		ev   *cdc.Event
	}{
		{"all-types-insert", Options{}, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: row, Commit: commit}},
		{"all-types-update", Options{}, &cdc.Event{Op: cdc.Update, Table: allTypes, Before: row, After: row2, Commit: commit}},
		{"all-types-delete", Options{}, &cdc.Event{Op: cdc.Delete, Table: allTypes, Before: row2, Commit: commit}},
		{"all-types-init", Options{}, &cdc.Event{Op: cdc.Read, Table: allTypes, After: row, Commit: commit}},
		{"all-types-insert-with-length", Options{MySQLTypeWithLength: true, OmitNullMembers: true},
			&cdc.Event{Op: cdc.Insert, Table: allTypes, After: row, Commit: commit}},
		{"all-types-delete-in-old", Options{DeleteInOld: true}, &cdc.Event{Op: cdc.Delete, Table: allTypes, Before: row, Commit: commit}},
		{"all-types-insert-base64", Options{BinaryEncoding: BinaryBase64}, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: row, Commit: commit}},
		{"all-types-insert-hex", Options{BinaryEncoding: BinaryHex}, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: row, Commit: commit}},
		{"ddl-create", Options{}, &cdc.Event{Op: cdc.DDL, Database: "db", Table: &cdc.Table{Schema: "db", Name: "all_types"}, Commit: commit,
			DDL: "CREATE TABLE `all_types` (\n  `id` int NOT NULL,\n  `c` varchar(8) DEFAULT '\"\\\\',\n  PRIMARY KEY (`id`)\n)"}},
		{"ddl-database", Options{}, &cdc.Event{Op: cdc.DDL, Database: "db", DDL: "CREATE DATABASE db", Commit: commit}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			golden(t, c.name, encodeAt(t, c.opts, c.ev, 7, 1714557600999))
		})
	}
}

// TestGoldenFilesValid checks every golden file is one valid JSON message
// that Decode accepts.
func TestGoldenFilesValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) || bytes.Count(b, []byte("\n")) != 1 {
			t.Errorf("%s: not one valid JSON message", f)
		}
		if _, err := Decode(b); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// TestDecodesBack decodes messages with encoding/json and compares every
// value with text written out here by hand, independently of the encoder.
func TestDecodesBack(t *testing.T) {
	want := map[string]string{
		"id": "1", "ti": "-128", "tiu": "255", "si": "-32768", "siu": "65535", "mi": "-8388608", "miu": "16777215",
		"i": "-2147483648", "iu": "4294967295", "bi": "-9223372036854775808", "biu": "18446744073709551615", "flag": "1",
		"dec": "-99999999999999999999999999999999999.999999999999999999999999999999", "dec2": "12.50",
		"f": "3.14", "d": "-1.7976931348623157e308", "b1": "1", "b64": "18446744073709551615",
		"dt": "2024-02-29", "tm": "-838:59:59.000000", "dtm": "2024-05-01 10:00:00.120", "ts": "2024-05-01 10:00:00.123456",
		"zd": "0000-00-00", "zdt": "0000-00-00 00:00:00", "y": "0000",
		"c": "fixed", "vc": "emoji 😀 \"quoted\" back\\slash\nnew line\ttab \u2028 \u2029 \x01 \x7f \u0085 中文", "tt": "",
		"tx": "<html>&amp;</html>", "mt": strings.Repeat("long ", 20), "lt": "/* slash / */", "l1": "café",
		"e": "中文", "st": "a,c", "j": `{"a": [1, 2.5, "x"], "b": null, "c": "\u00e9\n"}`,
	}
	binary := map[string][]byte{"bn": {0x00, 0x7f, 0x80, 0xff}, "vb": []byte("bytes"), "tb": {},
		"bl": {0xde, 0xad, 0xbe, 0xef}, "mb": every256(), "lb": []byte(`"quoted\"`), "g": point12, "gg": point12}
	decoders := map[string]func(string) ([]byte, error){
		"latin1": func(s string) ([]byte, error) {
			var b []byte
			for _, r := range s {
				if r > 0xff {
					t.Errorf("latin1 text has %U", r)
				}
				b = append(b, byte(r))
			}
			return b, nil
		},
		"base64": base64.StdEncoding.DecodeString,
		"hex":    hex.DecodeString,
	}
	for enc, decode := range decoders {
		out := encodeAt(t, Options{BinaryEncoding: enc}, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: allTypesRow()}, 1, 0)
		m, err := Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Data) != 1 || len(m.Data[0]) != len(allTypes.Columns) {
			t.Fatalf("%s: data = %v", enc, m.Data)
		}
		got := m.Data[0]
		for _, c := range allTypes.Columns {
			v, isText := want[c.Name]
			b, isBinary := binary[c.Name]
			switch {
			case c.Name == "n":
				if got[c.Name] != nil {
					t.Errorf("%s = %q, want null", c.Name, *got[c.Name])
				}
			case got[c.Name] == nil:
				t.Errorf("%s: %s is null", enc, c.Name)
			case isText:
				if *got[c.Name] != v {
					t.Errorf("%s = %q, want %q", c.Name, *got[c.Name], v)
				}
			case isBinary:
				d, err := decode(*got[c.Name])
				if err != nil || !bytes.Equal(d, b) {
					t.Errorf("%s: %s = %q decodes to %x (%v), want %x", enc, c.Name, *got[c.Name], d, err, b)
				}
			default:
				t.Errorf("column %s has no expected value", c.Name)
			}
		}
		if enc == "latin1" && *got["mb"] != latin1(every256()) {
			t.Errorf("mb = %q", *got["mb"])
		}
	}
}

// FuzzAppendValue feeds arbitrary bytes into text, binary, ENUM member and
// name positions: the encoder must never fail or panic, must always write
// valid JSON, and must round-trip valid UTF-8 text and all binary values.
func FuzzAppendValue(f *testing.F) {
	f.Add([]byte("plain"), []byte{0xff, 0x00}, "name", "member")
	f.Add([]byte("\xed\xa0\x80 \u2028 \"\\"), []byte("x"), "\x00\"", "中\"文")
	f.Add([]byte("\xc2\x85\x7f\x1f"), every256(), "\xff", "\\")
	f.Fuzz(func(t *testing.T, text, bin []byte, name, member string) {
		tbl := &cdc.Table{Schema: name, Name: "t" + name, PK: []int{0}, Columns: []cdc.Column{
			{Name: "t", Type: cdc.VarChar}, {Name: "b", Type: cdc.Blob},
			{Name: "e", Type: cdc.Enum, Elems: []string{member}}, {Name: "s", Type: cdc.Set, Elems: []string{member, "x"}},
			{Name: "x" + name, Type: cdc.Int}}}
		for enc, decode := range map[string]func(string) ([]byte, error){
			"latin1": func(s string) ([]byte, error) {
				var b []byte
				for _, r := range s {
					b = append(b, byte(r))
				}
				return b, nil
			},
			"base64": base64.StdEncoding.DecodeString,
			"hex":    hex.DecodeString,
		} {
			e := New(Options{BinaryEncoding: enc})
			ev := &cdc.Event{Op: cdc.Update, Table: tbl,
				Before: cdc.Row{cdc.TextValue(bin), cdc.BytesValue(text), cdc.UintValue(0), cdc.UintValue(2), cdc.IntValue(1)},
				After:  cdc.Row{cdc.TextValue(text), cdc.BytesValue(bin), cdc.UintValue(1), cdc.UintValue(3), cdc.IntValue(2)}}
			out, err := e.AppendValue([]byte("{}"), ev)
			if err != nil || !json.Valid(out[2:]) {
				t.Fatalf("err=%v valid=%v: %q", err, json.Valid(out[2:]), out)
			}
			m, err := Decode(out[2:])
			if err != nil {
				t.Fatal(err)
			}
			row := m.Data[0]
			if utf8.Valid(text) && *row["t"] != string(text) {
				t.Errorf("text %q came back as %q", text, *row["t"])
			}
			if utf8.ValidString(member) && (*row["e"] != member || *row["s"] != member+",x") {
				t.Errorf("member %q came back as %q and %q", member, *row["e"], *row["s"])
			}
			if b, err := decode(*row["b"]); err != nil || !bytes.Equal(b, bin) {
				t.Errorf("%s: binary %x came back as %x (%v)", enc, bin, b, err)
			}
			ddl, err := e.AppendValue(nil, &cdc.Event{Op: cdc.DDL, Database: name, DDL: string(text)})
			if err != nil || !json.Valid(ddl) {
				t.Fatalf("invalid DDL JSON (%v): %q", err, ddl)
			}
		}
	})
}

// typical is a ten-column table like most OLTP tables.
var typical = &cdc.Table{Schema: "shop", Name: "orders", PK: []int{0}, Columns: []cdc.Column{
	{Name: "id", Type: cdc.BigInt, Unsigned: true, Key: true},
	{Name: "user_id", Type: cdc.Int},
	{Name: "status", Type: cdc.VarChar},
	{Name: "amount", Type: cdc.Decimal, Precision: 10, Scale: 2},
	{Name: "quantity", Type: cdc.SmallInt},
	{Name: "discount", Type: cdc.Double},
	{Name: "kind", Type: cdc.Enum, Elems: []string{"retail", "wholesale"}},
	{Name: "created_at", Type: cdc.DateTime},
	{Name: "updated_at", Type: cdc.Timestamp, FSP: 3},
	{Name: "note", Type: cdc.VarChar, Nullable: true},
}}

func typicalRow(status string) cdc.Row {
	return cdc.Row{cdc.UintValue(100012345), cdc.IntValue(4711), cdc.StringValue(status), cdc.StringValue("1234.50"),
		cdc.IntValue(3), cdc.FloatValue(0.15), cdc.UintValue(1), cdc.StringValue("2024-05-01 10:00:00"),
		cdc.Value{Kind: cdc.KindText, Int: 1714557600123000, Bytes: []byte("2024-05-01 10:00:00.123")},
		cdc.StringValue("leave at the door, ring twice")}
}

func benchmark(b *testing.B, ev *cdc.Event) {
	e := New(Options{})
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = e.AppendValue(buf[:0], ev)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsert encodes the typical ten-column row.
func BenchmarkInsert(b *testing.B) {
	benchmark(b, &cdc.Event{Op: cdc.Insert, Table: typical, After: typicalRow("PAID"), Commit: time.Unix(1714557600, 0)})
}

// BenchmarkUpdate encodes the typical row with a before image.
func BenchmarkUpdate(b *testing.B) {
	benchmark(b, &cdc.Event{Op: cdc.Update, Table: typical, Before: typicalRow("NEW"), After: typicalRow("PAID"),
		Commit: time.Unix(1714557600, 0)})
}

// BenchmarkAllTypes encodes the 44-column all-types row.
func BenchmarkAllTypes(b *testing.B) {
	benchmark(b, &cdc.Event{Op: cdc.Insert, Table: allTypes, After: allTypesRow(), Commit: time.Unix(1714557600, 0)})
}
