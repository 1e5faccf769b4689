package binlog

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opendts/opendts/internal/cdc"
)

// packDecimal encodes s as MySQL's packed DECIMAL(prec, scale) (decimal2bin).
func packDecimal(s string, prec, scale int) []byte {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	intg := prec - scale
	ip = strings.Repeat("0", intg-len(ip)) + ip
	fp += strings.Repeat("0", scale-len(fp))
	var out []byte
	put := func(digits string) {
		v, _ := strconv.Atoi(digits)
		size := 4
		if len(digits) < 9 {
			size = dig2bytes[len(digits)]
		}
		for i := size - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*uint(i))))
		}
	}
	x := intg % 9
	if x > 0 {
		put(ip[:x])
	}
	for i := x; i < intg; i += 9 {
		put(ip[i : i+9])
	}
	for i := 0; i+9 <= scale; i += 9 {
		put(fp[i : i+9])
	}
	if y := scale % 9; y > 0 {
		put(fp[scale-y:])
	}
	out[0] ^= 0x80
	if neg {
		for i := range out {
			out[i] ^= 0xFF
		}
	}
	return out
}

func TestAppendDecimal(t *testing.T) {
	// The example of MySQL's decimal.c: DECIMAL(14,4) 1234567890.1234.
	known := []byte{0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2}
	if got := packDecimal("1234567890.1234", 14, 4); !bytes.Equal(got, known) {
		t.Fatalf("test encoder: % x, want % x", got, known)
	}
	tests := []struct {
		in, out     string
		prec, scale int
	}{
		{"1234567890.1234", "1234567890.1234", 14, 4},
		{"-1234567890.1234", "-1234567890.1234", 14, 4},
		{"-12.5", "-12.50", 10, 2},
		{"0", "0.00", 10, 2},
		{"-0.5", "-0.50", 10, 2},
		{"0.01", "0.01", 10, 2},
		{"99999", "99999", 5, 0},
		{"0", "0", 5, 0},
		{"123456789012345678", "123456789012345678", 18, 0},
		{"-0.000000001", "-0.000000001", 10, 9},
		{"99999999999999999999999999999999999.999999999999999999999999999999",
			"99999999999999999999999999999999999.999999999999999999999999999999", 65, 30},
		{"-99999999999999999999999999999999999.999999999999999999999999999999",
			"-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30},
		{"1.000000000000000000000000000001", "1.000000000000000000000000000001", 65, 30},
		{"0.1", "0.100000000000000000000000000000", 65, 30},
	}
	for _, tt := range tests {
		b := packDecimal(tt.in, tt.prec, tt.scale)
		if len(b) != decimalSize(tt.prec, tt.scale) {
			t.Fatalf("%s: size %d, want %d", tt.in, len(b), decimalSize(tt.prec, tt.scale))
		}
		got, err := appendDecimal([]byte("x"), b, tt.prec, tt.scale)
		if err != nil || string(got) != "x"+tt.out {
			t.Errorf("decimal(%d,%d) %s: %q, %v; want %q", tt.prec, tt.scale, tt.in, got, err, tt.out)
		}
	}
	// Negative zero prints without its sign.
	b := packDecimal("0.00", 10, 2)
	for i := range b {
		b[i] ^= 0xFF
	}
	if got, _ := appendDecimal(nil, b, 10, 2); string(got) != "0.00" {
		t.Errorf("negative zero: %q", got)
	}
	if _, err := appendDecimal(nil, []byte{0x80}, 10, 2); err == nil {
		t.Error("short decimal accepted")
	}
}

// timeBits encodes a TIME2 value (my_time_packed_to_binary).
func timeBits(neg bool, h, m, s, us int64, fsp int) []byte {
	nr := (h<<12|m<<6|s)<<24 + us
	if neg {
		nr = -nr
	}
	intPart, frac := nr>>24, nr%(1<<24)
	var b []byte
	put := func(v int64, n int) {
		for i := n - 1; i >= 0; i-- {
			b = append(b, byte(v>>(8*uint(i))))
		}
	}
	switch fsp {
	case 1, 2:
		put(intPart+0x800000, 3)
		b = append(b, byte(int8(frac/10000)))
	case 3, 4:
		put(intPart+0x800000, 3)
		put(frac/100, 2)
	case 5, 6:
		put(nr+0x800000000000, 6)
	default:
		put(intPart+0x800000, 3)
	}
	return b
}

// datetimeBits encodes a DATETIME2 value.
func datetimeBits(y, mo, d, h, mi, s, us int64, fsp int) []byte {
	v := ((y*13+mo)<<5|d)<<17 | (h<<12 | mi<<6 | s)
	b := []byte{byte(v >> 32), byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	b[0] |= 0x80
	return append(b, fracBits(us, fsp)...)
}

func fracBits(us int64, fsp int) []byte {
	switch fsp {
	case 1, 2:
		return []byte{byte(us / 10000)}
	case 3, 4:
		return []byte{byte(us / 100 >> 8), byte(us / 100)}
	case 5, 6:
		return []byte{byte(us >> 16), byte(us >> 8), byte(us)}
	}
	return nil
}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * uint(i)))
	}
	return b
}

func TestDecodeValue(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	f32 := math.Float32bits(3.14)
	tests := []struct {
		name string
		d    colDecoder
		in   []byte
		want cdc.Value
	}{
		{"tinyint -1", colDecoder{kind: decInt, size: 1}, []byte{0xFF}, cdc.IntValue(-1)},
		{"tinyint unsigned 255", colDecoder{kind: decInt, size: 1, unsigned: true}, []byte{0xFF}, cdc.UintValue(255)},
		{"smallint min", colDecoder{kind: decInt, size: 2}, le(0x8000, 2), cdc.IntValue(-32768)},
		{"mediumint -1", colDecoder{kind: decInt, size: 3}, le(0xFFFFFF, 3), cdc.IntValue(-1)},
		{"mediumint unsigned max", colDecoder{kind: decInt, size: 3, unsigned: true}, le(0xFFFFFF, 3), cdc.UintValue(16777215)},
		{"int min", colDecoder{kind: decInt, size: 4}, le(0x80000000, 4), cdc.IntValue(math.MinInt32)},
		{"int unsigned max", colDecoder{kind: decInt, size: 4, unsigned: true}, le(0xFFFFFFFF, 4), cdc.UintValue(4294967295)},
		{"bigint unsigned max", colDecoder{kind: decInt, size: 8, unsigned: true}, le(math.MaxUint64, 8), cdc.UintValue(math.MaxUint64)},
		{"bigint min", colDecoder{kind: decInt, size: 8}, le(1<<63, 8), cdc.IntValue(math.MinInt64)},
		{"float", colDecoder{kind: decFloat}, le(uint64(f32), 4), cdc.FloatValue(float64(float32(3.14)))},
		{"double", colDecoder{kind: decDouble}, le(math.Float64bits(-0.1), 8), cdc.FloatValue(-0.1)},
		{"bit(64)", colDecoder{kind: decBit, size: 8}, bytes.Repeat([]byte{0xFF}, 8), cdc.UintValue(math.MaxUint64)},
		{"bit(10)", colDecoder{kind: decBit, size: 2}, []byte{0x02, 0x01}, cdc.UintValue(513)},
		{"year", colDecoder{kind: decYear}, []byte{124}, cdc.IntValue(2024)},
		{"year 0000", colDecoder{kind: decYear}, []byte{0}, cdc.IntValue(0)},
		{"enum", colDecoder{kind: decEnum, size: 2}, le(300, 2), cdc.UintValue(300)},
		{"set", colDecoder{kind: decSet, size: 8}, le(1<<63|5, 8), cdc.UintValue(1<<63 | 5)},
		{"decimal", colDecoder{kind: decDecimal, prec: 10, scale: 2}, packDecimal("-12.5", 10, 2), cdc.StringValue("-12.50")},
		{"date", colDecoder{kind: decDate}, le(2024<<9|5<<5|1, 3), cdc.StringValue("2024-05-01")},
		{"zero date", colDecoder{kind: decDate}, le(0, 3), cdc.StringValue("0000-00-00")},
		{"time2", colDecoder{kind: decTime2}, timeBits(false, 10, 2, 3, 0, 0), cdc.StringValue("10:02:03")},
		{"time2 -838", colDecoder{kind: decTime2, fsp: 6}, timeBits(true, 838, 59, 59, 0, 6), cdc.StringValue("-838:59:59.000000")},
		{"time2 fsp1 neg", colDecoder{kind: decTime2, fsp: 1}, timeBits(true, 0, 0, 0, 500000, 1), cdc.StringValue("-00:00:00.5")},
		{"time2 fsp3 neg", colDecoder{kind: decTime2, fsp: 3}, timeBits(true, 1, 2, 3, 456000, 3), cdc.StringValue("-01:02:03.456")},
		{"time2 fsp4", colDecoder{kind: decTime2, fsp: 4}, timeBits(false, 100, 0, 1, 123400, 4), cdc.StringValue("100:00:01.1234")},
		{"old time neg", colDecoder{kind: decTime}, le(uint64(int64(-12345)&0xFFFFFF), 3), cdc.StringValue("-01:23:45")},
		{"datetime2(3)", colDecoder{kind: decDatetime2, fsp: 3}, datetimeBits(2024, 5, 1, 10, 0, 0, 120000, 3), cdc.StringValue("2024-05-01 10:00:00.120")},
		{"datetime2(6)", colDecoder{kind: decDatetime2, fsp: 6}, datetimeBits(9999, 12, 31, 23, 59, 59, 999999, 6), cdc.StringValue("9999-12-31 23:59:59.999999")},
		{"datetime2 zero", colDecoder{kind: decDatetime2, fsp: 2}, datetimeBits(0, 0, 0, 0, 0, 0, 0, 2), cdc.StringValue("0000-00-00 00:00:00.00")},
		{"old datetime", colDecoder{kind: decDatetime}, le(20240501100908, 8), cdc.StringValue("2024-05-01 10:09:08")},
		{"timestamp2", colDecoder{kind: decTimestamp2, fsp: 6}, append(binary.BigEndian.AppendUint32(nil, 1714528800), fracBits(123456, 6)...),
			cdc.Value{Kind: cdc.KindText, Int: 1714528800123456, Bytes: []byte("2024-05-01 10:00:00.123456")}},
		{"timestamp2 zero", colDecoder{kind: decTimestamp2, fsp: 3}, []byte{0, 0, 0, 0, 0, 0},
			cdc.Value{Kind: cdc.KindText, Bytes: []byte("0000-00-00 00:00:00.000")}},
		{"old timestamp", colDecoder{kind: decTimestamp}, le(1, 4), cdc.Value{Kind: cdc.KindText, Int: 1e6, Bytes: []byte("1970-01-01 08:00:01")}},
		{"varchar", colDecoder{kind: decString, size: 1}, []byte("\x03abc"), cdc.StringValue("abc")},
		{"varchar 2-byte length", colDecoder{kind: decString, size: 2}, []byte("\x02\x00é"), cdc.StringValue("é")},
		{"varchar latin1", colDecoder{kind: decString, size: 1, codec: textCodec{kind: codecLatin1}}, []byte("\x03\xe9\x80\x81"), cdc.StringValue("é€\u0081")},
		{"char gbk", colDecoder{kind: decString, size: 1, codec: codecFor("gbk")}, []byte("\x02\xc4\xe3"), cdc.StringValue("你")},
		{"binary padded", colDecoder{kind: decString, size: 1, pad: 4, codec: textCodec{kind: codecBinary}}, []byte("\x02ab"), cdc.BytesValue([]byte("ab\x00\x00"))},
		{"varbinary", colDecoder{kind: decString, size: 1, codec: textCodec{kind: codecBinary}}, []byte("\x02\x00\xff"), cdc.BytesValue([]byte{0, 0xff})},
		{"blob", colDecoder{kind: decBlob, size: 2, codec: textCodec{kind: codecBinary}}, []byte("\x01\x00\x07"), cdc.BytesValue([]byte{7})},
		{"longtext", colDecoder{kind: decBlob, size: 4}, []byte("\x02\x00\x00\x00{}"), cdc.StringValue("{}")},
		{"json", colDecoder{kind: decJSON, size: 4}, append([]byte("\x0d\x00\x00\x00"), "\x00\x01\x00\x0c\x00\x0b\x00\x01\x00\x05\xd2\x04a"...), cdc.StringValue(`{"a": 1234}`)},
		{"json empty", colDecoder{kind: decJSON, size: 4}, []byte{0, 0, 0, 0}, cdc.StringValue("null")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd := valueDecoder{loc: shanghai}
			in := append(append([]byte{}, tt.in...), 0xEE) // a following byte must not be read
			got, n, err := vd.value(in, &tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(tt.in) {
				t.Errorf("consumed %d bytes, want %d", n, len(tt.in))
			}
			if !got.Equal(tt.want) || got.Int != tt.want.Int {
				t.Errorf("got %+v (%q), want %+v (%q)", got, got.Bytes, tt.want, tt.want.Bytes)
			}
			if len(tt.in) > 1 {
				if _, _, err := vd.value(tt.in[:len(tt.in)-1], &tt.d); err == nil && tt.d.kind != decString && tt.d.kind != decBlob {
					t.Errorf("truncated value accepted")
				}
			}
		})
	}
}

func TestImage(t *testing.T) {
	cols := []colDecoder{{kind: decInt, size: 4}, {kind: decString, size: 1}, {kind: decInt, size: 1}}
	// Columns 0 and 2 present; column 2 NULL.
	present := []byte{0b101}
	data := []byte{0b10, 7, 0, 0, 0}
	out := make([]cdc.Value, 3)
	var vd valueDecoder
	n, err := vd.image(data, cols, present, 2, out)
	if err != nil || n != len(data) {
		t.Fatalf("image: %d, %v", n, err)
	}
	if !out[0].Equal(cdc.IntValue(7)) || !out[1].IsNull() || !out[2].IsNull() {
		t.Errorf("image = %+v", out)
	}
	if _, err := vd.image(data[:3], cols, present, 2, out); err == nil {
		t.Error("truncated image accepted")
	}
}

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"empty object", "\x00\x00\x00\x04\x00", "{}"},
		{"object", "\x00\x02\x00(\x00\x12\x00\x04\x00\x16\x00\x04\x00\f\x1a\x00\f!\x00key1key2\x06value1\x06value2", `{"key1": "value1", "key2": "value2"}`},
		{"array", "\x02\x05\x00\x1d\x00\x04\x01\x00\x04\x00\x00\x0b\x13\x00\x0c\x1b\x00\x05\xfe\xff\x00\x00\x00\x00\x00\x00\xf8\x3f\x01x", `[true, null, 1.5, "x", -2]`},
		{"string escapes", "\x0c\x05a\"\\\n\x01", `"a\"\\\n\u0001"`},
		{"uint64", "\x0a\xff\xff\xff\xff\xff\xff\xff\xff", "18446744073709551615"},
		{"whole double", "\x0b\x00\x00\x00\x00\x00\x00\x08\x40", "3.0"},
		{"tiny double", "\x0b\xf1\x68\xe3\x88\xb5\xf8\xe4\x3e", "1e-5"},
		{"false", "\x04\x02", "false"},
		{"opaque decimal", "\x0f\xf6\x04\x04\x02" + string(packDecimal("3.14", 4, 2)), "3.14"},
	}
	for _, tt := range tests {
		got, err := appendJSON(nil, []byte(tt.doc))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{"\x00\x05\x00", "\x02\x01\x00\xff\x00", "\x0c\x85", "\x04\x09", "\x30"} {
		if _, err := appendJSON(nil, []byte(bad)); err == nil {
			t.Errorf("malformed %q accepted", bad)
		}
	}
}

func TestTextCodec(t *testing.T) {
	var arena slab
	tests := []struct {
		cs   string
		in   string
		want string
	}{
		{"utf8mb4", "héllo😀", "héllo😀"},
		{"latin1", "caf\xe9 \x80", "café €"},
		{"latin1", "plain", "plain"},
		{"ucs2", "\x00h\x00\xe9", "hé"},
		{"cp1251", "\xcf\xf0\xe8", "При"},
		{"swe7", "ok\xff", "ok\uFFFD"},
	}
	for _, tt := range tests {
		if got := codecFor(tt.cs).decode([]byte(tt.in), &arena); string(got) != tt.want {
			t.Errorf("%s %q: %q, want %q", tt.cs, tt.in, got, tt.want)
		}
	}
	// Slab slices never share capacity with their neighbours.
	a := codecFor("latin1").decode([]byte("\xe9"), &arena)
	b := codecFor("latin1").decode([]byte("\xe8"), &arena)
	_ = append(a, 'x')
	if string(b) != "è" {
		t.Errorf("appending to one slab slice changed the next: %q", b)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add([]byte("\x00\x02\x00(\x00\x12\x00\x04\x00\x16\x00\x04\x00\f\x1a\x00\f!\x00key1key2\x06value1\x06value2"))
	f.Add([]byte("\x02\x05\x00\x1d\x00\x04\x01\x00\x04\x00\x00\x0b\x13\x00\x0c\x1b\x00\x05\xfe\xff\x00\x00\x00\x00\x00\x00\xf8\x3f\x01x"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		appendJSON(nil, doc) // must not panic
	})
}

func FuzzImage(f *testing.F) {
	cols := []colDecoder{
		{kind: decInt, size: 8}, {kind: decDecimal, prec: 12, scale: 2}, {kind: decString, size: 1, codec: textCodec{kind: codecLatin1}},
		{kind: decTime2, fsp: 3}, {kind: decDatetime2, fsp: 6}, {kind: decTimestamp2, fsp: 2}, {kind: decJSON, size: 4},
		{kind: decBlob, size: 2, codec: codecFor("ucs2")}, {kind: decBit, size: 3}, {kind: decDate},
	}
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24})
	f.Fuzz(func(t *testing.T, data []byte) {
		vd := valueDecoder{loc: time.UTC}
		out := make([]cdc.Value, len(cols))
		vd.image(data, cols, []byte{0xFF, 0x03}, len(cols), out) // must not panic
	})
}
