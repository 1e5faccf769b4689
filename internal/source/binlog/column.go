package binlog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/opendts/opendts/internal/cdc"
)

// decKind says how one column's value is laid out in a row image.
type decKind uint8

const (
	decInt        decKind = iota + 1 // little-endian integer of size bytes
	decFloat                         // float32
	decDouble                        // float64
	decDecimal                       // MySQL packed decimal (prec, scale)
	decBit                           // big-endian bits, size bytes
	decYear                          // 1 byte, 1900 + n
	decDate                          // 3 bytes
	decTime                          // old TIME: 3 bytes signed HHMMSS
	decTime2                         // TIME2 with fsp
	decDatetime                      // old DATETIME: 8 bytes YYYYMMDDhhmmss
	decDatetime2                     // DATETIME2 with fsp
	decTimestamp                     // old TIMESTAMP: 4 bytes seconds
	decTimestamp2                    // TIMESTAMP2 with fsp
	decString                        // length-prefixed (size 1 or 2) CHAR/VARCHAR/BINARY/VARBINARY
	decEnum                          // size 1 or 2, little-endian index
	decSet                           // size 1..8, little-endian bitmask
	decBlob                          // length-prefixed (size 1..4) BLOB/TEXT/GEOMETRY/VECTOR
	decJSON                          // MySQL binary JSON, length-prefixed (size bytes)
)

// colDecoder is the compiled decoding plan of one column.
type colDecoder struct {
	kind     decKind
	size     int // fixed size, length-prefix size or pack length
	fsp      int
	prec     int
	scale    int
	unsigned bool
	pad      int // BINARY(n): right-pad with 0x00 to n bytes, as SELECT returns it
	codec    textCodec
}

// colMeta is what a TABLE_MAP event, and possibly the schema tracker, say
// about one column.
type colMeta struct {
	name     string
	typ      byte   // binlog type code
	meta     uint16 // binlog type metadata
	unsigned bool
	charset  string // "" when unknown
	geometry uint64 // GEOMETRY subtype, with hasGeom
	hasGeom  bool
	elems    []string // ENUM/SET members, already UTF-8
	nullable bool
}

// Default display widths, as MariaDB and MySQL before 8.0.19 print them.
var intWidths = [...][2]int{ // [type][unsigned]
	cdc.TinyInt: {4, 3}, cdc.SmallInt: {6, 5}, cdc.MediumInt: {9, 8}, cdc.Int: {11, 10}, cdc.BigInt: {20, 20},
}

var geometryNames = [...]string{"geometry", "point", "linestring", "polygon", "multipoint",
	"multilinestring", "multipolygon", "geometrycollection"}

// stringMeta splits the metadata of a MYSQL_TYPE_STRING column into its
// real type (STRING, ENUM or SET) and its length in bytes (pack length for
// ENUM and SET).
func stringMeta(meta uint16) (real byte, length int) {
	if meta < 256 {
		return mysql.MYSQL_TYPE_STRING, int(meta)
	}
	b0, b1 := byte(meta>>8), byte(meta)
	if b0&0x30 != 0x30 {
		return b0 | 0x30, int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
	}
	return b0, int(b1)
}

// makeColumn reconstructs a column's type from binlog metadata. widths says
// whether integer and YEAR types print a display width (MariaDB, MySQL <
// 8.0.19).
func makeColumn(m colMeta, widths bool) (cdc.Column, colDecoder, error) {
	c := cdc.Column{Name: m.name, Unsigned: m.unsigned, Nullable: m.nullable}
	d := colDecoder{unsigned: m.unsigned}
	unsigned := ""
	if m.unsigned {
		unsigned = " unsigned"
	}
	integer := func(t cdc.Type, size int) {
		c.Type, d.kind, d.size = t, decInt, size
		c.ColumnType = t.String()
		if widths {
			u := 0
			if m.unsigned {
				u = 1
			}
			c.ColumnType += "(" + strconv.Itoa(intWidths[t][u]) + ")"
		}
		c.ColumnType += unsigned
	}
	temporal := func(t cdc.Type, k decKind, fsp int) {
		c.Type, d.kind, d.fsp, c.FSP = t, k, fsp, fsp
		c.ColumnType = t.String()
		if fsp > 0 {
			c.ColumnType += "(" + strconv.Itoa(fsp) + ")"
		}
	}
	// text sets a character type from its byte length.
	text := func(char, bin cdc.Type, byteLen int) {
		c.Charset = m.charset
		if m.charset == "binary" {
			c.Type, c.Length = bin, uint64(byteLen)
			d.codec = textCodec{kind: codecBinary}
		} else {
			c.Type, c.Length = char, uint64(byteLen/maxLen(m.charset))
			d.codec = codecFor(m.charset)
		}
		c.ColumnType = c.Type.String() + "(" + strconv.FormatUint(c.Length, 10) + ")"
	}
	switch m.typ {
	case mysql.MYSQL_TYPE_TINY:
		integer(cdc.TinyInt, 1)
	case mysql.MYSQL_TYPE_SHORT:
		integer(cdc.SmallInt, 2)
	case mysql.MYSQL_TYPE_INT24:
		integer(cdc.MediumInt, 3)
	case mysql.MYSQL_TYPE_LONG:
		integer(cdc.Int, 4)
	case mysql.MYSQL_TYPE_LONGLONG:
		integer(cdc.BigInt, 8)
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		c.Type, d.kind = cdc.Decimal, decDecimal
		c.Precision, c.Scale = int(m.meta>>8), int(m.meta&0xFF)
		d.prec, d.scale = c.Precision, c.Scale
		if c.Scale > c.Precision || c.Precision > 65 || c.Scale > 30 {
			return c, d, fmt.Errorf("column %s: decimal(%d,%d) is out of range", m.name, c.Precision, c.Scale)
		}
		c.ColumnType = fmt.Sprintf("decimal(%d,%d)%s", c.Precision, c.Scale, unsigned)
	case mysql.MYSQL_TYPE_FLOAT:
		c.Type, d.kind, c.ColumnType = cdc.Float, decFloat, "float"+unsigned
	case mysql.MYSQL_TYPE_DOUBLE:
		c.Type, d.kind, c.ColumnType = cdc.Double, decDouble, "double"+unsigned
	case mysql.MYSQL_TYPE_BIT:
		bits := int(m.meta>>8)*8 + int(m.meta&0xFF)
		c.Type, d.kind, d.size, c.Length = cdc.Bit, decBit, (bits+7)/8, uint64(bits)
		c.ColumnType = "bit(" + strconv.Itoa(bits) + ")"
		c.Unsigned, d.unsigned = false, false
	case mysql.MYSQL_TYPE_YEAR:
		c.Type, d.kind, c.ColumnType = cdc.Year, decYear, "year"
		if widths {
			c.ColumnType = "year(4)"
		}
		c.Unsigned, d.unsigned = false, false
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		temporal(cdc.Date, decDate, 0)
	case mysql.MYSQL_TYPE_TIME:
		temporal(cdc.Time, decTime, 0)
	case mysql.MYSQL_TYPE_TIME2:
		temporal(cdc.Time, decTime2, int(m.meta))
	case mysql.MYSQL_TYPE_DATETIME:
		temporal(cdc.DateTime, decDatetime, 0)
	case mysql.MYSQL_TYPE_DATETIME2:
		temporal(cdc.DateTime, decDatetime2, int(m.meta))
	case mysql.MYSQL_TYPE_TIMESTAMP:
		temporal(cdc.Timestamp, decTimestamp, 0)
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		temporal(cdc.Timestamp, decTimestamp2, int(m.meta))
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		d.kind, d.size = decString, 1
		if m.meta >= 256 {
			d.size = 2
		}
		text(cdc.VarChar, cdc.VarBinary, int(m.meta))
	case mysql.MYSQL_TYPE_STRING:
		real, length := stringMeta(m.meta)
		switch real {
		case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
			c.Type, d.kind, d.size = cdc.Enum, decEnum, length
			if real == mysql.MYSQL_TYPE_SET {
				c.Type, d.kind = cdc.Set, decSet
			}
			c.Charset, c.Elems = m.charset, m.elems
			c.ColumnType = c.Type.String() + "(" + quoteElems(m.elems) + ")"
			c.Unsigned, d.unsigned = false, false
		default:
			d.kind, d.size = decString, 1
			if length >= 256 {
				d.size = 2
			}
			text(cdc.Char, cdc.Binary, length)
			if c.Type == cdc.Binary {
				d.pad = length
			}
		}
	case mysql.MYSQL_TYPE_BLOB:
		d.kind, d.size = decBlob, int(m.meta)
		if d.size < 1 || d.size > 4 {
			return c, d, fmt.Errorf("column %s: blob pack length %d", m.name, d.size)
		}
		blobs := [...]cdc.Type{cdc.TinyBlob, cdc.Blob, cdc.MediumBlob, cdc.LongBlob}
		texts := [...]cdc.Type{cdc.TinyText, cdc.Text, cdc.MediumText, cdc.LongText}
		c.Length = 1<<(8*uint(d.size)) - 1
		c.Charset = m.charset
		if m.charset == "binary" {
			c.Type, d.codec = blobs[d.size-1], textCodec{kind: codecBinary}
		} else {
			c.Type, d.codec = texts[d.size-1], codecFor(m.charset)
		}
		c.ColumnType = c.Type.String()
	case mysql.MYSQL_TYPE_JSON:
		c.Type, d.kind, d.size, c.ColumnType = cdc.JSON, decJSON, int(m.meta), "json"
	case mysql.MYSQL_TYPE_GEOMETRY:
		c.Type, d.kind, d.size = cdc.Geometry, decBlob, int(m.meta)
		d.codec = textCodec{kind: codecBinary}
		c.TypeName = "geometry"
		if m.hasGeom && m.geometry < uint64(len(geometryNames)) {
			c.TypeName = geometryNames[m.geometry]
		}
		c.ColumnType, c.Charset = c.TypeName, "binary"
	case mysql.MYSQL_TYPE_VECTOR:
		c.Type, d.kind, d.size = cdc.Unknown, decBlob, int(m.meta)
		d.codec = textCodec{kind: codecBinary}
		c.TypeName, c.ColumnType, c.Charset = "vector", "vector", "binary"
	default:
		return c, d, fmt.Errorf("column %s: binlog type %d is not supported", m.name, m.typ)
	}
	if !c.Type.IsInteger() && c.Type != cdc.Decimal && c.Type != cdc.Float && c.Type != cdc.Double {
		c.Unsigned, d.unsigned = false, false
	}
	return c, d, nil
}

// quoteElems renders ENUM/SET members as SHOW CREATE TABLE does: 'a','b'.
func quoteElems(elems []string) string {
	var b strings.Builder
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(e, "'", "''"))
		b.WriteByte('\'')
	}
	return b.String()
}
