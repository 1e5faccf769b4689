package kafka

import (
	"math"
	"testing"
	"unicode/utf16"

	"github.com/opendts/opendts/internal/cdc"
)

// javaCases were computed by OpenJDK 17: s.hashCode() and, for n = 3, 7
// and 12, Math.abs(Math.abs(s.hashCode()) % n) (upstream Canal's formula).
var javaCases = []struct {
	s       string
	hash    int32
	p3, p7  int32
	p12     int32
	comment string
}{
	{"", 0, 0, 0, 0, "empty"},
	{"a", 97, 1, 6, 1, ""},
	{"hello", 99162322, 1, 0, 10, ""},
	{"Hello World", -862545276, 0, 5, 0, "negative hash"},
	{"shop.orders", 570428637, 0, 2, 9, "table key"},
	{"shop.customers", 456257373, 0, 5, 9, "table key"},
	{"db.t", 3074820, 0, 0, 0, ""},
	{"polygenelubricants", math.MinInt32, 2, 2, 8, "Integer.MIN_VALUE"},
	{"中文", 646394, 2, 0, 2, "BMP, non-ASCII"},
	{"订单.用户", -711026198, 2, 1, 2, "non-ASCII table key"},
	{"😀", 1772899, 1, 2, 7, "surrogate pair"},
	{"a😀b", 57849694, 1, 0, 10, "surrogate pair inside"},
	{"é", 233, 2, 2, 5, "precomposed"},
	{"e\u0301", 3900, 0, 1, 0, "combining mark: not normalized"},
	{"1", 49, 1, 0, 1, "integer key"},
	{"42", 1662, 0, 3, 6, ""},
	{"-7", 1450, 1, 1, 10, ""},
	{"1,2", 48503, 2, 0, 11, "two-column key"},
	{"2024-05-01 10:00:00", -496452477, 0, 3, 9, "datetime key"},
	{"\x00", 0, 0, 0, 0, "NUL"},
	{"\uFFFD", 65533, 1, 6, 1, "replacement character"},
	{"Ünïcödé.tâble", 1231434580, 1, 5, 4, ""},
	{"𝄞music", 1496085755, 2, 3, 11, "supplementary plane"},
}

func TestJavaHashCode(t *testing.T) {
	for _, c := range javaCases {
		if got := javaHashCode(c.s); got != c.hash {
			t.Errorf("javaHashCode(%q) = %d, Java says %d (%s)", c.s, got, c.hash, c.comment)
		}
		if got := javaHashBytes([]byte(c.s)); got != c.hash {
			t.Errorf("javaHashBytes(%q) = %d, Java says %d", c.s, got, c.hash)
		}
		for _, pc := range []struct{ n, want int32 }{{3, c.p3}, {7, c.p7}, {12, c.p12}} {
			for _, policy := range []string{PolicyTable, PolicyPrimaryKey} {
				if got := Partition(policy, c.s, pc.n); got != pc.want {
					t.Errorf("Partition(%s, %q, %d) = %d, Java/Canal says %d", policy, c.s, pc.n, got, pc.want)
				}
			}
		}
	}
}

// TestJavaHashInvalidUTF8 pins that each byte that is not UTF-8 counts as
// U+FFFD (what Java's decoder yields for lone bytes).
func TestJavaHashInvalidUTF8(t *testing.T) {
	if got, want := javaHashCode("\xff\xfe"), javaHashCode("\uFFFD\uFFFD"); got != want || want != 2097056 {
		t.Errorf("invalid UTF-8: got %d, want %d (Java \"\\uFFFD\\uFFFD\".hashCode() = 2097056)", got, want)
	}
}

// FuzzJavaHashCode compares against the definition over UTF-16 code units.
func FuzzJavaHashCode(f *testing.F) {
	for _, c := range javaCases {
		f.Add(c.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want int32
		for _, u := range utf16.Encode([]rune(s)) {
			want = 31*want + int32(u)
		}
		if got := javaHashCode(s); got != want {
			t.Fatalf("javaHashCode(%q) = %d, want %d", s, got, want)
		}
		for _, n := range []int32{1, 2, 3, 64, math.MaxInt32} {
			if p := Partition(PolicyPrimaryKey, s, n); p < 0 || p >= n {
				t.Fatalf("Partition(%q, %d) = %d, out of range", s, n, p)
			}
		}
	})
}

func TestPartitionEdges(t *testing.T) {
	for _, c := range []struct {
		policy string
		key    string
		n      int32
		want   int32
	}{
		{PolicyPartition0, "hello", 12, 0},
		{"unknown", "hello", 12, 0},
		{PolicyTable, "hello", 1, 0},
		{PolicyTable, "hello", 0, 0},
		{PolicyTable, "hello", -5, 0},
		{PolicyPrimaryKey, "polygenelubricants", 2, 0}, // 2^31 mod 2
		{PolicyPrimaryKey, "polygenelubricants", math.MaxInt32, 1},
	} {
		if got := Partition(c.policy, c.key, c.n); got != c.want {
			t.Errorf("Partition(%q, %q, %d) = %d, want %d", c.policy, c.key, c.n, got, c.want)
		}
	}
}

var orders = &cdc.Table{
	Schema: "shop", Name: "orders",
	Columns: []cdc.Column{
		{Name: "id", Type: cdc.BigInt, Key: true},
		{Name: "region", Type: cdc.VarChar, Key: true},
		{Name: "note", Type: cdc.Text},
	},
	PK: []int{1, 0}, // key order differs from column order
}

var logTable = &cdc.Table{Schema: "shop", Name: "log", Columns: []cdc.Column{{Name: "msg", Type: cdc.Text}}}

func rowOf(id int64, region, note string) cdc.Row {
	return cdc.Row{cdc.IntValue(id), cdc.StringValue(region), cdc.StringValue(note)}
}

func TestAppendKey(t *testing.T) {
	for _, c := range []struct {
		name   string
		policy string
		ev     *cdc.Event
		want   string
		ok     bool
	}{
		{"partition0", PolicyPartition0, &cdc.Event{Op: cdc.Insert, Table: orders, After: rowOf(1, "eu", "x")}, "", false},
		{"table row", PolicyTable, &cdc.Event{Op: cdc.Insert, Table: orders, After: rowOf(1, "eu", "x")}, "shop.orders", true},
		{"table DDL", PolicyTable, &cdc.Event{Op: cdc.DDL, Table: orders, DDL: "ALTER TABLE orders ADD c INT"}, "shop.orders", true},
		{"table database DDL", PolicyTable, &cdc.Event{Op: cdc.DDL, Database: "shop", DDL: "CREATE DATABASE shop"}, "", false},
		{"table no-PK table", PolicyTable, &cdc.Event{Op: cdc.Insert, Table: logTable, After: cdc.Row{cdc.StringValue("m")}}, "shop.log", true},
		{"pk insert in key order", PolicyPrimaryKey, &cdc.Event{Op: cdc.Insert, Table: orders, After: rowOf(42, "eu", "x")}, "eu,42", true},
		{"pk read", PolicyPrimaryKey, &cdc.Event{Op: cdc.Read, Table: orders, After: rowOf(42, "eu", "x")}, "eu,42", true},
		{"pk update uses after", PolicyPrimaryKey, &cdc.Event{Op: cdc.Update, Table: orders, Before: rowOf(1, "eu", "x"), After: rowOf(2, "us", "x")}, "us,2", true},
		{"pk delete uses before", PolicyPrimaryKey, &cdc.Event{Op: cdc.Delete, Table: orders, Before: rowOf(7, "eu", "x")}, "eu,7", true},
		{"pk null renders empty", PolicyPrimaryKey, &cdc.Event{Op: cdc.Insert, Table: orders, After: cdc.Row{cdc.IntValue(3), cdc.NullValue, cdc.NullValue}}, ",3", true},
		{"pk DDL", PolicyPrimaryKey, &cdc.Event{Op: cdc.DDL, Table: orders, DDL: "ALTER TABLE orders ADD c INT"}, "", false},
		{"pk table without key", PolicyPrimaryKey, &cdc.Event{Op: cdc.Insert, Table: logTable, After: cdc.Row{cdc.StringValue("m")}}, "", false},
		{"pk commit", PolicyPrimaryKey, &cdc.Event{Op: cdc.Commit}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := AppendKey([]byte("prefix:"), c.policy, c.ev)
			if ok != c.ok || string(got) != "prefix:"+c.want {
				t.Errorf("AppendKey = %q, %v; want %q, %v", got, ok, "prefix:"+c.want, c.ok)
			}
		})
	}
}

func TestAppendKeyValueRendering(t *testing.T) {
	tbl := &cdc.Table{Schema: "s", Name: "t", PK: []int{0, 1, 2, 3}, Columns: []cdc.Column{
		{Name: "u", Type: cdc.BigInt, Unsigned: true},
		{Name: "d", Type: cdc.Decimal},
		{Name: "b", Type: cdc.VarBinary},
		{Name: "e", Type: cdc.Enum, Elems: []string{"a", "b"}},
	}}
	ev := &cdc.Event{Op: cdc.Insert, Table: tbl, After: cdc.Row{
		cdc.UintValue(math.MaxUint64), cdc.StringValue("-12.50"), cdc.BytesValue([]byte{0xff, 0x00}), cdc.UintValue(2),
	}}
	got, _ := AppendKey(nil, PolicyPrimaryKey, ev)
	if want := "18446744073709551615,-12.50,\xff\x00,b"; string(got) != want {
		t.Errorf("key = %q, want %q", got, want)
	}
}

func TestRouter(t *testing.T) {
	c := Config{Topic: "data", DDLTopic: "ddl", Partitioning: PolicyPrimaryKey}.WithDefaults()
	r := newRouter(c, map[string]int32{"data": 12, "ddl": 3})
	ins := &cdc.Event{Op: cdc.Insert, Table: orders, After: rowOf(2, "1,", "x")} // key "1,,2"
	if topic, p := r.Route(ins); topic != "data" || p != Partition(PolicyPrimaryKey, "1,,2", 12) {
		t.Errorf("insert → %s[%d]", topic, p)
	}
	one := &cdc.Event{Op: cdc.Insert, Table: &cdc.Table{Schema: "s", Name: "t", Columns: []cdc.Column{{Name: "id", Type: cdc.Int}}, PK: []int{0}}, After: cdc.Row{cdc.IntValue(42)}}
	if _, p := r.Route(one); p != 6 { // "42".hashCode() = 1662, 1662 % 12 = 6
		t.Errorf("id=42 → partition %d, want 6", p)
	}
	ddl := &cdc.Event{Op: cdc.DDL, Table: orders, DDL: "ALTER TABLE x"}
	if topic, p := r.Route(ddl); topic != "ddl" || p != 0 {
		t.Errorf("ddl → %s[%d], want ddl[0]", topic, p)
	}

	tr := newRouter(Config{Topic: "data", Partitioning: PolicyTable}.WithDefaults(), map[string]int32{"data": 12})
	if topic, p := tr.Route(ddl); topic != "data" || p != 9 { // "shop.orders" → 9 of 12
		t.Errorf("table policy ddl → %s[%d], want data[9]", topic, p)
	}
	if _, p := tr.Route(ins); p != 9 {
		t.Errorf("table policy row → %d, want 9 (same as its DDL)", p)
	}
	p0 := newRouter(Config{Topic: "data"}.WithDefaults(), map[string]int32{"data": 12})
	if _, p := p0.Route(ins); p != 0 {
		t.Errorf("default policy → %d, want 0", p)
	}
}

func BenchmarkRoutePrimaryKey(b *testing.B) {
	r := newRouter(Config{Topic: "data", Partitioning: PolicyPrimaryKey}.WithDefaults(), map[string]int32{"data": 12})
	ev := &cdc.Event{Op: cdc.Update, Table: orders, Before: rowOf(1, "eu", "x"), After: rowOf(123456789, "eu-west", "x")}
	b.ReportAllocs()
	for b.Loop() {
		r.Route(ev)
	}
}
