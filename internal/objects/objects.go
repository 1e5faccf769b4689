// Package objects decides which databases and tables a task synchronizes.
// It owns the selection rules and compiles them once into a Selector that
// answers per table in constant time. Renames, filters and the DbList adapter
// will live here too.
package objects

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opendts/opendts/internal/config"
)

// Config selects what to synchronize. A table is selected when its database
// is listed in Databases, or it is listed in Tables, and it is not listed in
// ExcludeTables. System schemas (mysql, information_schema,
// performance_schema, sys) are never selected. Names are matched exactly, as
// MySQL does on Linux with lower_case_table_names=0.
type Config struct {
	// Databases are whole databases, including tables created later.
	Databases []string `yaml:"databases" json:"databases,omitempty"`
	// Tables are "database.table" names.
	Tables []string `yaml:"tables" json:"tables,omitempty"`
	// ExcludeTables are "database.table" names left out of Databases.
	ExcludeTables []string `yaml:"exclude_tables" json:"exclude_tables,omitempty"`
}

// Validate reports every problem at once, each naming its field and the fix.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Databases) == 0 && len(c.Tables) == 0 {
		errs = append(errs, config.Errorf("", "list databases under objects.databases, or tables as database.table under objects.tables", "selects nothing"))
	}
	for i, d := range c.Databases {
		field := fmt.Sprintf("databases[%d]", i)
		switch {
		case d == "" || strings.Contains(d, "."):
			errs = append(errs, config.Errorf(field, "write a database name without a table part", "%q is not a database name", d))
		case IsSystemSchema(d):
			errs = append(errs, config.Errorf(field, "remove it: system schemas are never synchronized", "%q is a system schema", d))
		}
	}
	check := func(field string, list []string) {
		for i, t := range list {
			if db, tb, ok := strings.Cut(t, "."); !ok || db == "" || tb == "" {
				errs = append(errs, config.Errorf(fmt.Sprintf("%s[%d]", field, i), "write it as database.table", "%q is not a qualified table name", t))
			}
		}
	}
	check("tables", c.Tables)
	check("exclude_tables", c.ExcludeTables)
	return errors.Join(errs...)
}

// Selector answers whether a table is selected. It is immutable and safe for
// concurrent use.
type Selector struct {
	databases map[string]bool
	tables    map[string]bool
	excluded  map[string]bool
}

// Compile builds a Selector from a validated Config.
func Compile(c Config) *Selector {
	s := &Selector{databases: map[string]bool{}, tables: map[string]bool{}, excluded: map[string]bool{}}
	for _, d := range c.Databases {
		s.databases[d] = true
	}
	for _, t := range c.Tables {
		s.tables[t] = true
	}
	for _, t := range c.ExcludeTables {
		s.excluded[t] = true
	}
	return s
}

// Table reports whether schema.table is selected.
func (s *Selector) Table(schema, table string) bool {
	if IsSystemSchema(schema) {
		return false
	}
	q := schema + "." + table
	if s.excluded[q] {
		return false
	}
	return s.databases[schema] || s.tables[q]
}

// Database reports whether any table of schema may be selected, which
// decides whether database-level DDL (CREATE/DROP DATABASE) is passed on.
func (s *Selector) Database(schema string) bool {
	if IsSystemSchema(schema) {
		return false
	}
	if s.databases[schema] {
		return true
	}
	for t := range s.tables {
		if db, _, _ := strings.Cut(t, "."); db == schema {
			return true
		}
	}
	return false
}

// IsSystemSchema reports whether db is a server schema that is never
// synchronized.
func IsSystemSchema(db string) bool {
	switch strings.ToLower(db) {
	case "mysql", "information_schema", "performance_schema", "sys":
		return true
	}
	return false
}
