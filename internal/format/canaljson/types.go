package canaljson

import "github.com/opendts/opendts/internal/cdc"

// java.sql.Types codes, as Canal and DTS write them in sqlType.
const (
	sqlBit       = -7
	sqlTinyInt   = -6
	sqlSmallInt  = 5
	sqlInteger   = 4
	sqlBigInt    = -5
	sqlDecimal   = 3
	sqlReal      = 7
	sqlDouble    = 8
	sqlChar      = 1
	sqlVarChar   = 12
	sqlDate      = 91
	sqlTime      = 92
	sqlTimestamp = 93
	sqlBinary    = -2
	sqlBlob      = 2004
	sqlClob      = 2005
	sqlOther     = 1111
)

// MySQLType returns the mysqlType text of a column: its base type name
// ("bigint", "varchar", "point"; no length and no "unsigned", as DTS writes
// it since 2022), or with withLength the full column type ("bigint(20)
// unsigned", as upstream Canal and the 2021 DTS documentation), falling back
// to the base name when the full type is unknown.
func MySQLType(c *cdc.Column, withLength bool) string {
	if withLength && c.ColumnType != "" {
		return c.ColumnType
	}
	return c.BaseTypeName()
}

// SQLType returns the java.sql.Types code Canal reports for a column.
// Unsigned integers are promoted one level, because Java's signed types
// cannot hold their range: TINYINT→SMALLINT, SMALLINT→INTEGER,
// MEDIUMINT→INTEGER, INT→BIGINT, BIGINT→DECIMAL. Types Canal does not know
// get OTHER (1111).
func SQLType(c *cdc.Column) int {
	switch c.Type {
	case cdc.TinyInt:
		if c.Unsigned {
			return sqlSmallInt
		}
		return sqlTinyInt
	case cdc.SmallInt:
		if c.Unsigned {
			return sqlInteger
		}
		return sqlSmallInt
	case cdc.MediumInt:
		return sqlInteger
	case cdc.Int:
		if c.Unsigned {
			return sqlBigInt
		}
		return sqlInteger
	case cdc.BigInt:
		if c.Unsigned {
			return sqlDecimal
		}
		return sqlBigInt
	case cdc.Decimal:
		return sqlDecimal
	case cdc.Float:
		return sqlReal
	case cdc.Double:
		return sqlDouble
	case cdc.Bit:
		return sqlBit
	case cdc.Date:
		return sqlDate
	case cdc.Time:
		return sqlTime
	case cdc.DateTime, cdc.Timestamp:
		return sqlTimestamp
	case cdc.Year:
		return sqlVarChar
	case cdc.Char:
		return sqlChar
	case cdc.VarChar, cdc.JSON:
		return sqlVarChar
	case cdc.TinyText, cdc.Text, cdc.MediumText, cdc.LongText:
		return sqlClob
	case cdc.Binary, cdc.VarBinary, cdc.TinyBlob, cdc.Blob, cdc.MediumBlob, cdc.LongBlob:
		return sqlBlob
	case cdc.Enum:
		return sqlInteger
	case cdc.Set:
		return sqlBit
	case cdc.Geometry:
		return sqlBinary
	}
	return sqlOther
}
