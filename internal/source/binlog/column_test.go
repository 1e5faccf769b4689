package binlog

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/opendts/opendts/internal/cdc"
)

// stringMetaOf encodes a MYSQL_TYPE_STRING column's metadata as the server
// does for a real type and byte length.
func stringMetaOf(real byte, length int) uint16 {
	if length < 256 {
		return uint16(real)<<8 | uint16(length)
	}
	// Lengths above 255 keep bits 8-9 inverted in the real type's 0x30 bits.
	hi := real ^ byte((length>>4)&0x30)
	return uint16(hi)<<8 | uint16(length&0xFF)
}

func TestMakeColumn(t *testing.T) {
	tests := []struct {
		name    string
		m       colMeta
		widths  bool
		typ     cdc.Type
		colType string
		length  uint64
		prec    int
		scale   int
		fsp     int
		kind    decKind
		size    int
		pad     int
		codec   codecKind
	}{
		{"tinyint", colMeta{typ: mysql.MYSQL_TYPE_TINY}, true, cdc.TinyInt, "tinyint(4)", 0, 0, 0, 0, decInt, 1, 0, 0},
		{"tinyint unsigned", colMeta{typ: mysql.MYSQL_TYPE_TINY, unsigned: true}, true, cdc.TinyInt, "tinyint(3) unsigned", 0, 0, 0, 0, decInt, 1, 0, 0},
		{"int mysql8", colMeta{typ: mysql.MYSQL_TYPE_LONG, unsigned: true}, false, cdc.Int, "int unsigned", 0, 0, 0, 0, decInt, 4, 0, 0},
		{"int", colMeta{typ: mysql.MYSQL_TYPE_LONG}, true, cdc.Int, "int(11)", 0, 0, 0, 0, decInt, 4, 0, 0},
		{"mediumint", colMeta{typ: mysql.MYSQL_TYPE_INT24}, true, cdc.MediumInt, "mediumint(9)", 0, 0, 0, 0, decInt, 3, 0, 0},
		{"bigint unsigned", colMeta{typ: mysql.MYSQL_TYPE_LONGLONG, unsigned: true}, true, cdc.BigInt, "bigint(20) unsigned", 0, 0, 0, 0, decInt, 8, 0, 0},
		{"smallint", colMeta{typ: mysql.MYSQL_TYPE_SHORT}, false, cdc.SmallInt, "smallint", 0, 0, 0, 0, decInt, 2, 0, 0},
		{"decimal", colMeta{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: 10<<8 | 2}, true, cdc.Decimal, "decimal(10,2)", 0, 10, 2, 0, decDecimal, 0, 0, 0},
		{"decimal max", colMeta{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: 65<<8 | 30, unsigned: true}, true, cdc.Decimal, "decimal(65,30) unsigned", 0, 65, 30, 0, decDecimal, 0, 0, 0},
		{"float", colMeta{typ: mysql.MYSQL_TYPE_FLOAT, meta: 4}, true, cdc.Float, "float", 0, 0, 0, 0, decFloat, 0, 0, 0},
		{"double", colMeta{typ: mysql.MYSQL_TYPE_DOUBLE, meta: 8}, true, cdc.Double, "double", 0, 0, 0, 0, decDouble, 0, 0, 0},
		{"bit(1)", colMeta{typ: mysql.MYSQL_TYPE_BIT, meta: 1}, true, cdc.Bit, "bit(1)", 1, 0, 0, 0, decBit, 1, 0, 0},
		{"bit(64)", colMeta{typ: mysql.MYSQL_TYPE_BIT, meta: 8 << 8}, true, cdc.Bit, "bit(64)", 64, 0, 0, 0, decBit, 8, 0, 0},
		{"bit(10)", colMeta{typ: mysql.MYSQL_TYPE_BIT, meta: 1<<8 | 2}, true, cdc.Bit, "bit(10)", 10, 0, 0, 0, decBit, 2, 0, 0},
		{"year mariadb", colMeta{typ: mysql.MYSQL_TYPE_YEAR, unsigned: true}, true, cdc.Year, "year(4)", 0, 0, 0, 0, decYear, 0, 0, 0},
		{"year mysql8", colMeta{typ: mysql.MYSQL_TYPE_YEAR}, false, cdc.Year, "year", 0, 0, 0, 0, decYear, 0, 0, 0},
		{"date", colMeta{typ: mysql.MYSQL_TYPE_DATE}, true, cdc.Date, "date", 0, 0, 0, 0, decDate, 0, 0, 0},
		{"time(6)", colMeta{typ: mysql.MYSQL_TYPE_TIME2, meta: 6}, true, cdc.Time, "time(6)", 0, 0, 0, 6, decTime2, 0, 0, 0},
		{"time", colMeta{typ: mysql.MYSQL_TYPE_TIME2}, true, cdc.Time, "time", 0, 0, 0, 0, decTime2, 0, 0, 0},
		{"datetime(3)", colMeta{typ: mysql.MYSQL_TYPE_DATETIME2, meta: 3}, true, cdc.DateTime, "datetime(3)", 0, 0, 0, 3, decDatetime2, 0, 0, 0},
		{"old datetime", colMeta{typ: mysql.MYSQL_TYPE_DATETIME}, true, cdc.DateTime, "datetime", 0, 0, 0, 0, decDatetime, 0, 0, 0},
		{"timestamp(6)", colMeta{typ: mysql.MYSQL_TYPE_TIMESTAMP2, meta: 6}, true, cdc.Timestamp, "timestamp(6)", 0, 0, 0, 6, decTimestamp2, 0, 0, 0},
		{"varchar utf8mb4", colMeta{typ: mysql.MYSQL_TYPE_VARCHAR, meta: 128, charset: "utf8mb4"}, true, cdc.VarChar, "varchar(32)", 32, 0, 0, 0, decString, 1, 0, codecUTF8},
		{"varchar long", colMeta{typ: mysql.MYSQL_TYPE_VARCHAR, meta: 1200, charset: "utf8mb3"}, true, cdc.VarChar, "varchar(400)", 400, 0, 0, 0, decString, 2, 0, codecUTF8},
		{"varchar latin1", colMeta{typ: mysql.MYSQL_TYPE_VARCHAR, meta: 10, charset: "latin1"}, true, cdc.VarChar, "varchar(10)", 10, 0, 0, 0, decString, 1, 0, codecLatin1},
		{"varbinary", colMeta{typ: mysql.MYSQL_TYPE_VARCHAR, meta: 8, charset: "binary"}, true, cdc.VarBinary, "varbinary(8)", 8, 0, 0, 0, decString, 1, 0, codecBinary},
		{"char", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_STRING, 40), charset: "utf8mb4"}, true, cdc.Char, "char(10)", 10, 0, 0, 0, decString, 1, 0, codecUTF8},
		{"char(255) utf8mb4", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_STRING, 1020), charset: "utf8mb4"}, true, cdc.Char, "char(255)", 255, 0, 0, 0, decString, 2, 0, codecUTF8},
		{"binary", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_STRING, 4), charset: "binary"}, true, cdc.Binary, "binary(4)", 4, 0, 0, 0, decString, 1, 4, codecBinary},
		{"char gbk", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_STRING, 20), charset: "gbk"}, true, cdc.Char, "char(10)", 10, 0, 0, 0, decString, 1, 0, codecOther},
		{"enum", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_ENUM, 1), elems: []string{"a", "it's"}}, true, cdc.Enum, "enum('a','it''s')", 0, 0, 0, 0, decEnum, 1, 0, 0},
		{"set", colMeta{typ: mysql.MYSQL_TYPE_STRING, meta: stringMetaOf(mysql.MYSQL_TYPE_SET, 2), elems: []string{"x", "y"}}, true, cdc.Set, "set('x','y')", 0, 0, 0, 0, decSet, 2, 0, 0},
		{"text", colMeta{typ: mysql.MYSQL_TYPE_BLOB, meta: 2, charset: "utf8mb4"}, true, cdc.Text, "text", 65535, 0, 0, 0, decBlob, 2, 0, codecUTF8},
		{"longtext", colMeta{typ: mysql.MYSQL_TYPE_BLOB, meta: 4, charset: "utf8mb4"}, true, cdc.LongText, "longtext", 1<<32 - 1, 0, 0, 0, decBlob, 4, 0, codecUTF8},
		{"tinyblob", colMeta{typ: mysql.MYSQL_TYPE_BLOB, meta: 1, charset: "binary"}, true, cdc.TinyBlob, "tinyblob", 255, 0, 0, 0, decBlob, 1, 0, codecBinary},
		{"json", colMeta{typ: mysql.MYSQL_TYPE_JSON, meta: 4}, false, cdc.JSON, "json", 0, 0, 0, 0, decJSON, 4, 0, 0},
		{"point", colMeta{typ: mysql.MYSQL_TYPE_GEOMETRY, meta: 4, geometry: 1, hasGeom: true}, true, cdc.Geometry, "point", 0, 0, 0, 0, decBlob, 4, 0, codecBinary},
		{"geometry", colMeta{typ: mysql.MYSQL_TYPE_GEOMETRY, meta: 4}, true, cdc.Geometry, "geometry", 0, 0, 0, 0, decBlob, 4, 0, codecBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, d, err := makeColumn(tt.m, tt.widths)
			if err != nil {
				t.Fatal(err)
			}
			if c.Type != tt.typ || c.ColumnType != tt.colType || c.Length != tt.length || c.Precision != tt.prec ||
				c.Scale != tt.scale || c.FSP != tt.fsp {
				t.Errorf("column %+v, want type %s %q length %d decimal(%d,%d) fsp %d", c, tt.typ, tt.colType, tt.length, tt.prec, tt.scale, tt.fsp)
			}
			if d.kind != tt.kind || d.size != tt.size || d.pad != tt.pad || d.codec.kind != tt.codec {
				t.Errorf("decoder %+v, want kind %d size %d pad %d codec %d", d, tt.kind, tt.size, tt.pad, tt.codec)
			}
			if c.Unsigned != (tt.m.unsigned && (c.Type.IsInteger() || c.Type == cdc.Decimal || c.Type == cdc.Float)) {
				t.Errorf("unsigned = %v", c.Unsigned)
			}
		})
	}
	if _, _, err := makeColumn(colMeta{typ: mysql.MYSQL_TYPE_DECIMAL}, true); err == nil {
		t.Error("pre-5.0 DECIMAL should be rejected")
	}
	if _, _, err := makeColumn(colMeta{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: 10<<8 | 12}, true); err == nil {
		t.Error("scale above precision should be rejected")
	}
}

func TestStringMeta(t *testing.T) {
	for _, length := range []int{0, 1, 255, 256, 600, 1020} {
		for _, real := range []byte{mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET} {
			if real != mysql.MYSQL_TYPE_STRING && length > 8 {
				continue
			}
			gotReal, gotLen := stringMeta(stringMetaOf(real, length))
			if length > 0 && (gotReal != real || gotLen != length) {
				t.Errorf("stringMeta(%d, %d) = %d, %d", real, length, gotReal, gotLen)
			}
		}
	}
}
