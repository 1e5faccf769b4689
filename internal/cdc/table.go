package cdc

import "strings"

// Type is a MySQL column type, independent of its length or precision.
type Type uint8

// MySQL column types. The zero value is Unknown.
const (
	Unknown Type = iota
	TinyInt
	SmallInt
	MediumInt
	Int
	BigInt
	Decimal
	Float
	Double
	Bit
	Date
	Time
	DateTime
	Timestamp
	Year
	Char
	VarChar
	TinyText
	Text
	MediumText
	LongText
	Binary
	VarBinary
	TinyBlob
	Blob
	MediumBlob
	LongBlob
	Enum
	Set
	JSON
	Geometry // GEOMETRY and its subtypes (POINT, LINESTRING, ...); see Column.TypeName
)

var typeNames = [...]string{
	Unknown: "unknown", TinyInt: "tinyint", SmallInt: "smallint", MediumInt: "mediumint", Int: "int",
	BigInt: "bigint", Decimal: "decimal", Float: "float", Double: "double", Bit: "bit", Date: "date",
	Time: "time", DateTime: "datetime", Timestamp: "timestamp", Year: "year", Char: "char",
	VarChar: "varchar", TinyText: "tinytext", Text: "text", MediumText: "mediumtext", LongText: "longtext",
	Binary: "binary", VarBinary: "varbinary", TinyBlob: "tinyblob", Blob: "blob", MediumBlob: "mediumblob",
	LongBlob: "longblob", Enum: "enum", Set: "set", JSON: "json", Geometry: "geometry",
}

// String returns the lower-case MySQL name of the type ("bigint", "varchar").
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// ParseType maps a MySQL type name (as in information_schema DATA_TYPE) to a
// Type. Geometry subtypes map to Geometry; unknown names map to Unknown.
func ParseType(name string) Type {
	name = strings.ToLower(name)
	for t, n := range typeNames {
		if n == name {
			return Type(t)
		}
	}
	switch name {
	case "integer":
		return Int
	case "numeric", "dec", "fixed":
		return Decimal
	case "real", "double precision":
		return Double
	case "bool", "boolean":
		return TinyInt
	case "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
		"geometrycollection", "geomcollection":
		return Geometry
	}
	return Unknown
}

// IsInteger reports whether t is one of the integer types.
func (t Type) IsInteger() bool { return t >= TinyInt && t <= BigInt }

// IsText reports whether values of t are character strings in a charset.
func (t Type) IsText() bool { return (t >= Char && t <= LongText) || t == Enum || t == Set }

// IsBinary reports whether values of t are raw bytes.
func (t Type) IsBinary() bool { return t >= Binary && t <= LongBlob }

// IsTemporal reports whether t is a date or time type.
func (t Type) IsTemporal() bool { return t >= Date && t <= Year }

// Column describes one column of a table version.
type Column struct {
	Name     string
	Type     Type
	TypeName string // base name as the source reports it ("int", "point"); defaults to Type.String()
	// ColumnType is the full type as SHOW CREATE TABLE writes it, such as
	// "bigint(20) unsigned" or "decimal(10,2)"; empty if unknown.
	ColumnType string
	Unsigned   bool
	Nullable   bool
	Charset    string   // for text types: "utf8mb4", "latin1", ... ("binary" for binary types)
	Length     uint64   // character length for CHAR/VARCHAR, byte length for BINARY/VARBINARY, bits for BIT
	Precision  int      // DECIMAL precision
	Scale      int      // DECIMAL scale
	FSP        int      // fractional-second precision of TIME/DATETIME/TIMESTAMP (0-6)
	Elems      []string // ENUM/SET members, in definition order
	Key        bool     // part of the primary key (or the chosen unique key)
}

// BaseTypeName returns TypeName, falling back to the Type's name.
func (c *Column) BaseTypeName() string {
	if c.TypeName != "" {
		return c.TypeName
	}
	return c.Type.String()
}

// Table is one version of a table's definition. Tables are shared between
// events and must not be modified once published: a DDL makes a new *Table.
type Table struct {
	Schema  string
	Name    string
	Columns []Column
	// PK holds the indexes into Columns of the primary key (or, when the
	// table has none, of the first non-null unique key), in key order.
	PK []int
	// Version increases with every definition change seen for the table.
	Version uint64
}

// ColumnIndex returns the index of the column with the given name
// (case-insensitive, as MySQL compares column names) or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// QualifiedName returns "schema.table".
func (t *Table) QualifiedName() string { return t.Schema + "." + t.Name }
