package cdc

import "testing"

func TestAppendText(t *testing.T) {
	enum := &Column{Type: Enum, Elems: []string{"a", "b"}}
	set := &Column{Type: Set, Elems: []string{"x", "y", "z"}}
	cases := []struct {
		v    Value
		c    *Column
		want string
	}{
		{IntValue(-5), &Column{Type: Int}, "-5"},
		{UintValue(18446744073709551615), &Column{Type: BigInt, Unsigned: true}, "18446744073709551615"},
		{IntValue(0), &Column{Type: Year}, "0000"},
		{IntValue(5), &Column{Type: Year}, "0005"},
		{IntValue(2024), &Column{Type: Year}, "2024"},
		{FloatValue(1.5), &Column{Type: Double}, "1.5"},
		{FloatValue(1e20), &Column{Type: Double}, "1e20"},
		{FloatValue(-1.5e-20), &Column{Type: Double}, "-1.5e-20"},
		{FloatValue(float64(float32(0.1))), &Column{Type: Float}, "0.1"},
		{UintValue(2), enum, "b"},
		{UintValue(0), enum, ""},
		{UintValue(5), set, "x,z"},
		{UintValue(0), set, ""},
		{UintValue(5), &Column{Type: Bit}, "5"},
		{StringValue("héllo"), &Column{Type: VarChar}, "héllo"},
	}
	for _, c := range cases {
		if got := string(c.v.AppendText(nil, c.c)); got != c.want {
			t.Errorf("AppendText(%+v, %v) = %q, want %q", c.v, c.c.Type, got, c.want)
		}
	}
}
