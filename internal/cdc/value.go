package cdc

import (
	"math"
	"strconv"
)

// Kind says how a Value's bits are to be read.
type Kind uint8

const (
	// KindNull is SQL NULL.
	KindNull Kind = iota
	// KindInt is a signed integer in Int (TINYINT..BIGINT signed, YEAR).
	KindInt
	// KindUint is an unsigned integer; its bits are stored in Int (read with Uint()).
	// Used for unsigned integers, BIT (value as a big-endian number), ENUM
	// (1-based member index, 0 for the empty error value) and SET (member bitmask).
	KindUint
	// KindFloat is FLOAT (widened) or DOUBLE in Float.
	KindFloat
	// KindText is character data already converted to UTF-8, in Bytes. Used for
	// CHAR/VARCHAR/TEXT, DECIMAL (exact digits, such as "-12.50"), JSON (the
	// document as JSON text) and temporal values (see below).
	KindText
	// KindBytes is raw binary data in Bytes (BINARY, VARBINARY, BLOB, GEOMETRY as
	// MySQL stores it: 4-byte SRID then WKB).
	KindBytes
)

// Value is one column value. Which fields are meaningful depends on Kind; the
// column's Type says what the value means. Temporal values are Text in MySQL's
// own rendering ("2024-05-01 10:00:00.123", "0000-00-00", "-838:59:59"); for
// TIMESTAMP, Int additionally holds the instant as Unix microseconds (zero
// date: Int is 0 and the text is "0000-00-00 00:00:00").
type Value struct {
	Kind  Kind
	Int   int64
	Float float64
	Bytes []byte
}

// NullValue is SQL NULL.
var NullValue = Value{}

// IntValue makes a signed integer value.
func IntValue(v int64) Value { return Value{Kind: KindInt, Int: v} }

// UintValue makes an unsigned integer value.
func UintValue(v uint64) Value { return Value{Kind: KindUint, Int: int64(v)} }

// FloatValue makes a floating-point value.
func FloatValue(v float64) Value { return Value{Kind: KindFloat, Float: v} }

// TextValue makes a character value; b is used, not copied.
func TextValue(b []byte) Value { return Value{Kind: KindText, Bytes: b} }

// StringValue makes a character value from a string.
func StringValue(s string) Value { return Value{Kind: KindText, Bytes: []byte(s)} }

// BytesValue makes a binary value; b is used, not copied.
func BytesValue(b []byte) Value { return Value{Kind: KindBytes, Bytes: b} }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.Kind == KindNull }

// Uint returns the value's bits as an unsigned integer.
func (v Value) Uint() uint64 { return uint64(v.Int) }

// Equal reports whether two values are identical (same kind and bits).
func (v Value) Equal(w Value) bool {
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case KindNull:
		return true
	case KindInt, KindUint:
		return v.Int == w.Int && string(v.Bytes) == string(w.Bytes)
	case KindFloat:
		return math.Float64bits(v.Float) == math.Float64bits(w.Float)
	}
	return string(v.Bytes) == string(w.Bytes)
}

// AppendText appends the value's canonical text to dst, the way MySQL's own
// client would print it, for the given column. NULL appends nothing; callers
// check IsNull first. Binary values are appended as their raw bytes.
// ENUM and SET are rendered as member names when the column lists them,
// else as their number.
func (v Value) AppendText(dst []byte, c *Column) []byte {
	switch v.Kind {
	case KindInt:
		if c.Type == Year && v.Int >= 0 && v.Int < 1000 {
			// MySQL prints YEAR with four digits: 0000 for the zero year.
			dst = append(dst, "000"[:3-digits(v.Int)+1]...)
		}
		return strconv.AppendInt(dst, v.Int, 10)
	case KindUint:
		switch c.Type {
		case Enum:
			if i := v.Uint(); i >= 1 && int(i) <= len(c.Elems) {
				return append(dst, c.Elems[i-1]...)
			} else if i == 0 && len(c.Elems) > 0 {
				return dst // the empty string MySQL stores for invalid ENUM values
			}
		case Set:
			if len(c.Elems) > 0 {
				bits, first := v.Uint(), true
				for i, e := range c.Elems {
					if i < 64 && bits&(1<<uint(i)) != 0 {
						if !first {
							dst = append(dst, ',')
						}
						dst = append(dst, e...)
						first = false
					}
				}
				return dst
			}
		}
		return strconv.AppendUint(dst, v.Uint(), 10)
	case KindFloat:
		return AppendFloat(dst, v.Float, c.Type == Float)
	case KindText, KindBytes:
		return append(dst, v.Bytes...)
	}
	return dst
}

// AppendFloat renders a float the way MySQL prints it: shortest
// representation that round-trips at the column's width, no exponent for
// ordinary magnitudes.
func AppendFloat(dst []byte, f float64, single bool) []byte {
	bits := 64
	if single {
		bits = 32
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-15 || abs >= 1e15) {
		// MySQL writes exponents without '+' or leading zeros: 1e20, 1.5e-20.
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, bits)
		for i := start; i < len(dst); i++ {
			if dst[i] == 'e' && i+1 < len(dst) && dst[i+1] == '+' {
				dst = append(dst[:i+1], dst[i+2:]...)
				break
			}
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, bits)
}

// digits returns the number of decimal digits of 0 <= n < 1000 (1 for 0).
func digits(n int64) int {
	switch {
	case n >= 100:
		return 3
	case n >= 10:
		return 2
	}
	return 1
}
