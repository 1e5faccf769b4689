package binlog

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"strconv"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL binary JSON (JSONB) type tags.
const (
	jsonSmallObject = 0x00
	jsonLargeObject = 0x01
	jsonSmallArray  = 0x02
	jsonLargeArray  = 0x03
	jsonLiteral     = 0x04
	jsonInt16       = 0x05
	jsonUint16      = 0x06
	jsonInt32       = 0x07
	jsonUint32      = 0x08
	jsonInt64       = 0x09
	jsonUint64      = 0x0a
	jsonDouble      = 0x0b
	jsonString      = 0x0c
	jsonOpaque      = 0x0f
)

var errJSON = errors.New("malformed binary JSON")

// appendJSON renders a MySQL binary JSON document as the text SELECT
// returns for it: ", " and ": " separators, keys in stored order. An empty
// document (written by non-strict inserts) renders as null.
func appendJSON(out, doc []byte) ([]byte, error) {
	if len(doc) == 0 {
		return append(out, "null"...), nil
	}
	return appendJSONValue(out, doc[0], doc[1:], 0)
}

func appendJSONValue(out []byte, tp byte, b []byte, depth int) ([]byte, error) {
	if depth > 150 {
		return out, errJSON
	}
	switch tp {
	case jsonSmallObject, jsonLargeObject, jsonSmallArray, jsonLargeArray:
		return appendJSONContainer(out, tp, b, depth)
	case jsonLiteral:
		if len(b) < 1 {
			return out, errJSON
		}
		switch b[0] {
		case 0:
			return append(out, "null"...), nil
		case 1:
			return append(out, "true"...), nil
		case 2:
			return append(out, "false"...), nil
		}
		return out, errJSON
	case jsonInt16, jsonUint16:
		if len(b) < 2 {
			return out, errJSON
		}
		v := binary.LittleEndian.Uint16(b)
		if tp == jsonInt16 {
			return strconv.AppendInt(out, int64(int16(v)), 10), nil
		}
		return strconv.AppendUint(out, uint64(v), 10), nil
	case jsonInt32, jsonUint32:
		if len(b) < 4 {
			return out, errJSON
		}
		v := binary.LittleEndian.Uint32(b)
		if tp == jsonInt32 {
			return strconv.AppendInt(out, int64(int32(v)), 10), nil
		}
		return strconv.AppendUint(out, uint64(v), 10), nil
	case jsonInt64, jsonUint64:
		if len(b) < 8 {
			return out, errJSON
		}
		v := binary.LittleEndian.Uint64(b)
		if tp == jsonInt64 {
			return strconv.AppendInt(out, int64(v), 10), nil
		}
		return strconv.AppendUint(out, v, 10), nil
	case jsonDouble:
		if len(b) < 8 {
			return out, errJSON
		}
		return appendJSONDouble(out, math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
	case jsonString:
		n, l, err := jsonVarLen(b)
		if err != nil || len(b)-n < l {
			return out, errJSON
		}
		return appendJSONString(out, b[n:n+l]), nil
	case jsonOpaque:
		return appendJSONOpaque(out, b)
	}
	return out, errJSON
}

// appendJSONContainer renders an object or array.
func appendJSONContainer(out []byte, tp byte, b []byte, depth int) ([]byte, error) {
	small := tp == jsonSmallObject || tp == jsonSmallArray
	object := tp == jsonSmallObject || tp == jsonLargeObject
	osz := 4
	if small {
		osz = 2
	}
	word := func(at int) int {
		if small {
			return int(binary.LittleEndian.Uint16(b[at:]))
		}
		return int(binary.LittleEndian.Uint32(b[at:]))
	}
	if len(b) < 2*osz {
		return out, errJSON
	}
	count, size := word(0), word(osz)
	if size > len(b) {
		return out, errJSON
	}
	b = b[:size]
	keyEntry, valueEntry := osz+2, 1+osz
	header := 2 * osz
	if object {
		header += count * keyEntry
	}
	if header+count*valueEntry > len(b) || count < 0 {
		return out, errJSON
	}
	open, close := byte('['), byte(']')
	if object {
		open, close = '{', '}'
	}
	out = append(out, open)
	for i := 0; i < count; i++ {
		if i > 0 {
			out = append(out, ',', ' ')
		}
		if object {
			ke := 2*osz + i*keyEntry
			ko, kl := word(ke), int(binary.LittleEndian.Uint16(b[ke+osz:]))
			if ko+kl > len(b) {
				return out, errJSON
			}
			out = appendJSONString(out, b[ko:ko+kl])
			out = append(out, ':', ' ')
		}
		ve := header + i*valueEntry
		vt := b[ve]
		var err error
		if jsonInline(vt, small) {
			out, err = appendJSONValue(out, vt, b[ve+1:ve+1+osz], depth+1)
		} else {
			vo := word(ve + 1)
			if vo >= len(b) {
				return out, errJSON
			}
			out, err = appendJSONValue(out, vt, b[vo:], depth+1)
		}
		if err != nil {
			return out, err
		}
	}
	return append(out, close), nil
}

// jsonInline reports whether a value of type tp is stored in its entry.
func jsonInline(tp byte, small bool) bool {
	switch tp {
	case jsonLiteral, jsonInt16, jsonUint16:
		return true
	case jsonInt32, jsonUint32:
		return !small
	}
	return false
}

// jsonVarLen reads JSONB's variable-length integer (7 bits per byte).
func jsonVarLen(b []byte) (n, v int, err error) {
	for i := 0; i < 5 && i < len(b); i++ {
		v |= int(b[i]&0x7f) << (7 * uint(i))
		if b[i]&0x80 == 0 {
			return i + 1, v, nil
		}
	}
	return 0, 0, errJSON
}

// appendJSONString appends s quoted and escaped as MySQL does.
func appendJSONString(out, s []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, c := range s {
		switch {
		case c == '"':
			out = append(out, '\\', '"')
		case c == '\\':
			out = append(out, '\\', '\\')
		case c == '\n':
			out = append(out, '\\', 'n')
		case c == '\r':
			out = append(out, '\\', 'r')
		case c == '\t':
			out = append(out, '\\', 't')
		case c == '\b':
			out = append(out, '\\', 'b')
		case c == '\f':
			out = append(out, '\\', 'f')
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// appendJSONDouble renders a double as MySQL's JSON printer does: shortest
// round-trip digits, exponent notation outside [1e-4, 1e15), and ".0" on
// whole numbers.
func appendJSONDouble(out []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(out, "null"...)
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-4 || abs >= 1e15) {
		start := len(out)
		out = strconv.AppendFloat(out, f, 'e', -1, 64)
		// Go writes e+07 / e-05; MySQL writes e7 / e-5.
		for i := start; i < len(out); i++ {
			if out[i] == 'e' {
				j := i + 1
				if out[j] == '+' {
					out = append(out[:j], out[j+1:]...)
				} else {
					j++
				}
				for j < len(out)-1 && out[j] == '0' {
					out = append(out[:j], out[j+1:]...)
				}
				break
			}
		}
		return out
	}
	out = strconv.AppendFloat(out, f, 'f', -1, 64)
	if f == math.Trunc(f) {
		out = append(out, '.', '0')
	}
	return out
}

// appendJSONOpaque renders an opaque value: DECIMAL as a number, temporal
// types as quoted strings, anything else as MySQL's "base64:typeN:..." form.
func appendJSONOpaque(out, b []byte) ([]byte, error) {
	if len(b) < 1 {
		return out, errJSON
	}
	ft := b[0]
	n, l, err := jsonVarLen(b[1:])
	if err != nil || len(b)-1-n < l {
		return out, errJSON
	}
	data := b[1+n : 1+n+l]
	switch ft {
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		if len(data) < 2 {
			return out, errJSON
		}
		prec, scale := int(data[0]), int(data[1])
		return appendDecimal(out, data[2:], prec, scale)
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME:
		if len(data) < 8 {
			return out, errJSON
		}
		packed := int64(binary.LittleEndian.Uint64(data))
		out = append(out, '"')
		neg := packed < 0
		if neg {
			packed = -packed
		}
		intpart, frac := packed>>24, packed%(1<<24)
		if ft == mysql.MYSQL_TYPE_TIME {
			if neg {
				out = append(out, '-')
			}
			out = appendClock(out, int(intpart>>12%(1<<10)), int(intpart>>6%(1<<6)), int(intpart%(1<<6)))
			out = appendFrac(out, frac, 6)
			return append(out, '"'), nil
		}
		ymd, hms := intpart>>17, intpart%(1<<17)
		ym := ymd >> 5
		out = appendDate(out, int(ym/13), int(ym%13), int(ymd%(1<<5)))
		if ft != mysql.MYSQL_TYPE_DATE {
			out = append(out, ' ')
			out = appendClock(out, int(hms>>12), int(hms>>6%(1<<6)), int(hms%(1<<6)))
			out = appendFrac(out, frac, 6)
		}
		return append(out, '"'), nil
	}
	out = append(out, "\"base64:type"...)
	out = strconv.AppendInt(out, int64(ft), 10)
	out = append(out, ':')
	out = base64.StdEncoding.AppendEncode(out, data)
	return append(out, '"'), nil
}
