package binlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/opendts/opendts/internal/cdc"
)

// errShort reports a row image that ends before its columns do.
var errShort = errors.New("row image is truncated")

// valueDecoder turns row-image bytes into cdc.Values. Strings are returned
// as sub-slices of the event data (which go-mysql allocates per packet and
// never reuses); rendered text is carved from arena.
type valueDecoder struct {
	loc   *time.Location // TIMESTAMP rendering zone
	arena slab
}

// countBits returns how many of the first n bits of bitmap are set.
func countBits(bitmap []byte, n int) int {
	c := 0
	for i := 0; i < n; i++ {
		if bitmap[i>>3]&(1<<(uint(i)&7)) != 0 {
			c++
		}
	}
	return c
}

// image decodes one row image into out (len(out) == len(cols)). present is
// the event's column bitmap and npresent its number of set bits. Columns
// absent from the image (binlog_row_image other than FULL) are NULL.
func (vd *valueDecoder) image(data []byte, cols []colDecoder, present []byte, npresent int, out []cdc.Value) (int, error) {
	nullLen := (npresent + 7) / 8
	if len(data) < nullLen {
		return 0, errShort
	}
	nulls := data[:nullLen]
	pos, ni := nullLen, 0
	for i := range cols {
		if present[i>>3]&(1<<(uint(i)&7)) == 0 {
			out[i] = cdc.NullValue
			continue
		}
		null := nulls[ni>>3]&(1<<(uint(ni)&7)) != 0
		ni++
		if null {
			out[i] = cdc.NullValue
			continue
		}
		v, n, err := vd.value(data[pos:], &cols[i])
		if err != nil {
			return 0, fmt.Errorf("column %d: %w", i+1, err)
		}
		out[i] = v
		pos += n
	}
	return pos, nil
}

func uintLE(b []byte, n int) uint64 {
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func uintBE(b []byte, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// fracSize is the number of bytes fractional seconds of precision fsp take.
func fracSize(fsp int) int { return (fsp + 1) / 2 }

// value decodes one non-NULL value and returns it with its size in bytes.
func (vd *valueDecoder) value(b []byte, d *colDecoder) (cdc.Value, int, error) {
	need := func(n int) error {
		if len(b) < n {
			return errShort
		}
		return nil
	}
	switch d.kind {
	case decInt:
		if err := need(d.size); err != nil {
			return cdc.Value{}, 0, err
		}
		u := uintLE(b, d.size)
		if d.unsigned {
			return cdc.UintValue(u), d.size, nil
		}
		shift := uint(64 - 8*d.size)
		return cdc.IntValue(int64(u<<shift) >> shift), d.size, nil
	case decFloat:
		if err := need(4); err != nil {
			return cdc.Value{}, 0, err
		}
		return cdc.FloatValue(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))), 4, nil
	case decDouble:
		if err := need(8); err != nil {
			return cdc.Value{}, 0, err
		}
		return cdc.FloatValue(math.Float64frombits(binary.LittleEndian.Uint64(b))), 8, nil
	case decDecimal:
		n := decimalSize(d.prec, d.scale)
		if err := need(n); err != nil {
			return cdc.Value{}, 0, err
		}
		out := vd.arena.begin(d.prec + 3)
		out, err := appendDecimal(out, b[:n], d.prec, d.scale)
		if err != nil {
			return cdc.Value{}, 0, err
		}
		return cdc.TextValue(vd.arena.end(out)), n, nil
	case decBit:
		if err := need(d.size); err != nil {
			return cdc.Value{}, 0, err
		}
		return cdc.UintValue(uintBE(b, d.size)), d.size, nil
	case decYear:
		if err := need(1); err != nil {
			return cdc.Value{}, 0, err
		}
		if b[0] == 0 {
			return cdc.IntValue(0), 1, nil
		}
		return cdc.IntValue(1900 + int64(b[0])), 1, nil
	case decEnum, decSet:
		if err := need(d.size); err != nil {
			return cdc.Value{}, 0, err
		}
		return cdc.UintValue(uintLE(b, d.size)), d.size, nil
	case decString, decBlob, decJSON:
		if err := need(d.size); err != nil {
			return cdc.Value{}, 0, err
		}
		l := int(uintLE(b, d.size))
		if l < 0 || len(b)-d.size < l {
			return cdc.Value{}, 0, errShort
		}
		s := b[d.size : d.size+l : d.size+l]
		n := d.size + l
		switch {
		case d.kind == decJSON:
			out := vd.arena.begin(2 * l)
			out, err := appendJSON(out, s)
			if err != nil {
				return cdc.Value{}, 0, fmt.Errorf("json: %w", err)
			}
			return cdc.TextValue(vd.arena.end(out)), n, nil
		case d.codec.kind == codecBinary:
			if d.pad > l {
				out := append(vd.arena.begin(d.pad), s...)
				for len(out) < d.pad {
					out = append(out, 0)
				}
				s = vd.arena.end(out)
			}
			return cdc.BytesValue(s), n, nil
		}
		return cdc.TextValue(d.codec.decode(s, &vd.arena)), n, nil
	}
	return vd.temporal(b, d)
}

// temporal decodes the date and time kinds.
func (vd *valueDecoder) temporal(b []byte, d *colDecoder) (cdc.Value, int, error) {
	size := 0
	switch d.kind {
	case decDate, decTime:
		size = 3
	case decTime2:
		size = 3 + fracSize(d.fsp)
	case decDatetime:
		size = 8
	case decDatetime2:
		size = 5 + fracSize(d.fsp)
	case decTimestamp:
		size = 4
	case decTimestamp2:
		size = 4 + fracSize(d.fsp)
	default:
		return cdc.Value{}, 0, fmt.Errorf("unknown column kind %d", d.kind)
	}
	if len(b) < size {
		return cdc.Value{}, 0, errShort
	}
	out := vd.arena.begin(28)
	var micros int64
	switch d.kind {
	case decDate:
		v := uintLE(b, 3)
		out = appendDate(out, int(v>>9), int(v>>5&15), int(v&31))
	case decTime:
		v := int64(uintLE(b, 3)<<40) >> 40
		if v < 0 {
			out = append(out, '-')
			v = -v
		}
		out = appendClock(out, int(v/10000), int(v/100%100), int(v%100))
	case decTime2:
		out = appendTime2(out, b, d.fsp)
	case decDatetime:
		v := binary.LittleEndian.Uint64(b)
		date, clock := v/1000000, v%1000000
		out = appendDate(out, int(date/10000), int(date/100%100), int(date%100))
		out = append(out, ' ')
		out = appendClock(out, int(clock/10000), int(clock/100%100), int(clock%100))
	case decDatetime2:
		v := int64(uintBE(b, 5)) - 0x8000000000
		frac := fracBE(b[5:], d.fsp)
		if v < 0 { // not produced by MySQL; render the magnitude
			v = -v
		}
		ymd, hms := v>>17, v%(1<<17)
		ym := ymd >> 5
		out = appendDate(out, int(ym/13), int(ym%13), int(ymd%(1<<5)))
		out = append(out, ' ')
		out = appendClock(out, int(hms>>12), int(hms>>6%(1<<6)), int(hms%(1<<6)))
		out = appendFrac(out, frac, d.fsp)
	case decTimestamp, decTimestamp2:
		var sec, frac int64
		if d.kind == decTimestamp {
			sec = int64(binary.LittleEndian.Uint32(b))
		} else {
			sec = int64(binary.BigEndian.Uint32(b))
			frac = fracBE(b[4:], d.fsp)
		}
		if sec == 0 && frac == 0 {
			out = append(out, "0000-00-00 00:00:00"...)
		} else {
			t := time.Unix(sec, 0).In(vd.loc)
			y, mo, dd := t.Date()
			h, mi, s := t.Clock()
			out = appendDate(out, y, int(mo), dd)
			out = append(out, ' ')
			out = appendClock(out, h, mi, s)
			micros = sec*1e6 + frac
		}
		out = appendFrac(out, frac, d.fsp)
		return cdc.Value{Kind: cdc.KindText, Int: micros, Bytes: vd.arena.end(out)}, size, nil
	}
	return cdc.TextValue(vd.arena.end(out)), size, nil
}

// fracBE reads the big-endian fractional-seconds field of TIME2-style
// types (DATETIME2, TIMESTAMP2) as microseconds.
func fracBE(b []byte, fsp int) int64 {
	switch fsp {
	case 1, 2:
		return int64(b[0]) * 10000
	case 3, 4:
		return int64(binary.BigEndian.Uint16(b)) * 100
	case 5, 6:
		return int64(uintBE(b, 3))
	}
	return 0
}

// appendTime2 renders a TIME2 value (MySQL my_time_packed_from_binary).
func appendTime2(out, b []byte, fsp int) []byte {
	var packed int64
	intpart := int64(uintBE(b, 3)) - 0x800000
	switch fsp {
	case 1, 2:
		frac := int64(b[3])
		if intpart < 0 && frac != 0 {
			intpart++
			frac -= 0x100
		}
		packed = intpart<<24 + frac*10000
	case 3, 4:
		frac := int64(binary.BigEndian.Uint16(b[3:]))
		if intpart < 0 && frac != 0 {
			intpart++
			frac -= 0x10000
		}
		packed = intpart<<24 + frac*100
	case 5, 6:
		packed = int64(uintBE(b, 6)) - 0x800000000000
	default:
		packed = intpart << 24
	}
	if packed < 0 {
		out = append(out, '-')
		packed = -packed
	}
	hms, frac := packed>>24, packed%(1<<24)
	out = appendClock(out, int(hms>>12%(1<<10)), int(hms>>6%(1<<6)), int(hms%(1<<6)))
	return appendFrac(out, frac, fsp)
}

// appendDigits appends v in decimal, zero-padded to width digits.
func appendDigits(out []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(out, buf[i:]...)
}

func appendDate(out []byte, y, m, d int) []byte {
	out = appendDigits(out, y, 4)
	out = append(out, '-')
	out = appendDigits(out, m, 2)
	out = append(out, '-')
	return appendDigits(out, d, 2)
}

func appendClock(out []byte, h, m, s int) []byte {
	out = appendDigits(out, h, 2)
	out = append(out, ':')
	out = appendDigits(out, m, 2)
	out = append(out, ':')
	return appendDigits(out, s, 2)
}

// appendFrac appends "." and the first fsp digits of micros (fsp 0: nothing).
func appendFrac(out []byte, micros int64, fsp int) []byte {
	if fsp <= 0 {
		return out
	}
	if fsp > 6 {
		fsp = 6
	}
	v := int(micros)
	for i := fsp; i < 6; i++ {
		v /= 10
	}
	out = append(out, '.')
	return appendDigits(out, v, fsp)
}

// dig2bytes is the number of bytes a group of n < 9 decimal digits takes.
var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// decimalSize is the packed size of DECIMAL(prec, scale).
func decimalSize(prec, scale int) int {
	intg := prec - scale
	return intg/9*4 + dig2bytes[intg%9] + scale/9*4 + dig2bytes[scale%9]
}

// appendDecimal renders MySQL's packed DECIMAL(prec, scale) exactly, as
// MySQL prints it: no leading zeros, exactly scale fraction digits.
func appendDecimal(out, b []byte, prec, scale int) ([]byte, error) {
	if prec < 1 || prec > 65 || scale < 0 || scale > prec {
		return out, fmt.Errorf("invalid decimal(%d,%d)", prec, scale)
	}
	var buf [32]byte
	n := copy(buf[:], b)
	if n != decimalSize(prec, scale) || n == 0 {
		return out, errShort
	}
	d := buf[:n]
	var mask byte
	if d[0]&0x80 == 0 {
		mask = 0xFF
	}
	d[0] ^= 0x80
	for i := range d {
		d[i] ^= mask
	}
	intg, pos := prec-scale, 0
	read := func(digits int) (int, error) {
		size := dig2bytes[digits]
		if digits == 9 {
			size = 4
		}
		v := int(uintBE(d[pos:], size))
		pos += size
		if digits == 9 && v > 999999999 || digits < 9 && v >= pow10(digits) {
			return 0, fmt.Errorf("invalid decimal digits")
		}
		return v, nil
	}
	start := len(out)
	if mask != 0 {
		out = append(out, '-')
	}
	digitsStart := len(out)
	leading := true
	emit := func(v, width int) {
		if leading {
			if v == 0 {
				return
			}
			out = appendDigits(out, v, 1)
			leading = false
			return
		}
		out = appendDigits(out, v, width)
	}
	if x := intg % 9; x > 0 {
		v, err := read(x)
		if err != nil {
			return out[:start], err
		}
		emit(v, x)
	}
	for i := 0; i < intg/9; i++ {
		v, err := read(9)
		if err != nil {
			return out[:start], err
		}
		emit(v, 9)
	}
	if leading {
		out = append(out, '0')
	}
	zero := leading
	if scale > 0 {
		out = append(out, '.')
		for i := 0; i < scale/9; i++ {
			v, err := read(9)
			if err != nil {
				return out[:start], err
			}
			zero = zero && v == 0
			out = appendDigits(out, v, 9)
		}
		if x := scale % 9; x > 0 {
			v, err := read(x)
			if err != nil {
				return out[:start], err
			}
			zero = zero && v == 0
			out = appendDigits(out, v, x)
		}
	}
	if zero && mask != 0 { // "-0.00" is printed as "0.00"
		out = append(out[:start], out[digitsStart:]...)
	}
	return out, nil
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}
