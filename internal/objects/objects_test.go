package objects

import (
	"strings"
	"testing"
)

func TestSelector(t *testing.T) {
	s := Compile(Config{Databases: []string{"shop"}, Tables: []string{"crm.users"}, ExcludeTables: []string{"shop.audit"}})
	cases := []struct {
		db, table string
		want      bool
	}{
		{"shop", "orders", true},
		{"shop", "created_later", true},
		{"shop", "audit", false},
		{"crm", "users", true},
		{"crm", "leads", false},
		{"mysql", "user", false},
		{"Shop", "orders", false},
	}
	for _, c := range cases {
		if got := s.Table(c.db, c.table); got != c.want {
			t.Errorf("Table(%q, %q) = %v, want %v", c.db, c.table, got, c.want)
		}
	}
	if !s.Database("crm") || !s.Database("shop") || s.Database("other") || s.Database("mysql") {
		t.Error("Database answers wrong")
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none = valid
	}{
		{"valid", Config{Databases: []string{"shop"}}, nil},
		{"empty", Config{}, []string{"selects nothing"}},
		{"system", Config{Databases: []string{"mysql"}}, []string{"databases[0]", "system schema"}},
		{"dotted db", Config{Databases: []string{"a.b"}}, []string{"databases[0]", "without a table part"}},
		{"bad table", Config{Tables: []string{"orders"}}, []string{"tables[0]", "database.table"}},
		{"bad exclude", Config{Databases: []string{"x"}, ExcludeTables: []string{"x."}}, []string{"exclude_tables[0]"}},
	}
	for _, c := range cases {
		err := c.cfg.Validate()
		if len(c.want) == 0 {
			if err != nil {
				t.Errorf("%s: unexpected error %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, want %v", c.name, c.want)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", c.name, err, w)
			}
		}
	}
}
