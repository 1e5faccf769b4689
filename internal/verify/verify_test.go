package verify

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/opendts/opendts/internal/format/canaljson"
)

func str(s string) *string { return &s }

func TestRender(t *testing.T) {
	cases := []struct {
		typ  string
		v    mysql.FieldValue
		want *string
	}{
		{"int", mysql.NewFieldValue(mysql.FieldValueTypeSigned, uint64(^uint64(4)), nil), str("-5")},
		{"bigint", mysql.NewFieldValue(mysql.FieldValueTypeUnsigned, 18446744073709551615, nil), str("18446744073709551615")},
		{"year", mysql.NewFieldValue(mysql.FieldValueTypeUnsigned, 0, nil), str("0000")},
		{"bit", mysql.NewFieldValue(mysql.FieldValueTypeString, 0, []byte{1, 2}), str("258")},
		{"varbinary", mysql.NewFieldValue(mysql.FieldValueTypeString, 0, []byte{0, 0xe9}), str("\x00é")},
		{"varchar", mysql.NewFieldValue(mysql.FieldValueTypeString, 0, []byte("café")), str("café")},
		{"int", mysql.NewFieldValue(mysql.FieldValueTypeNull, 0, nil), nil},
	}
	for _, c := range cases {
		got := render(c.typ, c.v)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("render(%s, %v) = %v, want %v", c.typ, c.v, show(got), show(c.want))
		}
	}
}

func TestSameValue(t *testing.T) {
	cases := []struct {
		typ  string
		a, b *string
		want bool
	}{
		{"varchar", str("a"), str("a"), true},
		{"varchar", str("a"), str("b"), false},
		{"varchar", nil, nil, true},
		{"varchar", nil, str(""), false},
		{"double", str("1e+20"), str("1e20"), true},
		{"double", str("0.1"), str("0.10000000000000002"), false},
		{"float", str("123457000"), str("123456790"), true},
		{"float", str("3.14"), str("3.15"), false},
		{"decimal", str("1.50"), str("1.5"), false},
	}
	for _, c := range cases {
		if got := sameValue(c.typ, c.a, c.b); got != c.want {
			t.Errorf("sameValue(%s, %s, %s) = %v", c.typ, show(c.a), show(c.b), got)
		}
	}
}

func TestApply(t *testing.T) {
	out := map[string]*topicTable{}
	msg := func(typ string, id, v string) canaljson.Message {
		return canaljson.Message{Database: "d", Table: "t", Type: typ, PKNames: []string{"id"},
			Data: []map[string]*string{{"id": str(id), "v": str(v)}}}
	}
	apply(out, msg("INSERT", "1", "a"))
	apply(out, msg("INSERT", "2", "b"))
	apply(out, msg("UPDATE", "1", "c"))
	apply(out, msg("DELETE", "2", "b"))
	apply(out, canaljson.Message{Database: "d", Table: "t", IsDDL: true, Type: "DDL"})
	tt := out["d.t"]
	if got := tt.rows["1"]; got == nil || *got["v"] != "c" {
		t.Errorf("key 1 = %v, want v=c", got)
	}
	if got, ok := tt.rows["2"]; !ok || got != nil {
		t.Errorf("key 2 = %v, want deleted", got)
	}
}
