package binlog

import (
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// collations maps collation ids, as TABLE_MAP metadata carries them, to
// character set names. The map read from the source at Open wins; ids it
// lacks fall back to MySQL's built-in numbering.
type collations map[uint64]string

// charset returns the character set of collation id, or "" if unknown.
func (m collations) charset(id uint64) string {
	if cs, ok := m[id]; ok {
		return cs
	}
	if id == 63 {
		return "binary"
	}
	if c, err := charset.GetCollationByID(int(id)); err == nil {
		return c.CharsetName
	}
	return ""
}

// maxLen returns the most bytes one character of cs takes (1 if unknown).
func maxLen(cs string) int {
	switch cs {
	case "utf8mb4", "utf16", "utf16le", "utf32", "gb18030":
		return 4
	case "utf8", "utf8mb3", "ujis", "eucjpms":
		return 3
	case "ucs2", "gbk", "gb2312", "big5", "sjis", "cp932", "euckr":
		return 2
	}
	return 1
}

// codecKind says how the bytes of a text column become UTF-8.
type codecKind uint8

const (
	codecUTF8   codecKind = iota // already UTF-8: used as is
	codecLatin1                  // MySQL latin1, which is Windows-1252
	codecBinary                  // binary strings: raw bytes, KindBytes
	codecOther                   // decoded with enc
	codecLossy                   // unknown charset: invalid UTF-8 replaced
)

// textCodec converts one column's character data to UTF-8.
type textCodec struct {
	kind codecKind
	enc  encoding.Encoding
}

// codecFor returns the codec of a character set name.
func codecFor(cs string) textCodec {
	switch strings.ToLower(cs) {
	case "utf8mb4", "utf8", "utf8mb3", "ascii", "":
		return textCodec{kind: codecUTF8}
	case "latin1":
		return textCodec{kind: codecLatin1}
	case "binary":
		return textCodec{kind: codecBinary}
	}
	if enc := encodingOf(cs); enc != nil {
		return textCodec{kind: codecOther, enc: enc}
	}
	return textCodec{kind: codecLossy}
}

func encodingOf(cs string) encoding.Encoding {
	switch strings.ToLower(cs) {
	case "gbk", "gb2312":
		return simplifiedchinese.GBK
	case "gb18030":
		return simplifiedchinese.GB18030
	case "big5":
		return traditionalchinese.Big5
	case "sjis", "cp932":
		return japanese.ShiftJIS
	case "ujis", "eucjpms":
		return japanese.EUCJP
	case "euckr":
		return korean.EUCKR
	case "ucs2", "utf16":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "utf16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf32":
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	case "latin2":
		return charmap.ISO8859_2
	case "latin5":
		return charmap.ISO8859_9
	case "latin7":
		return charmap.ISO8859_13
	case "greek":
		return charmap.ISO8859_7
	case "hebrew":
		return charmap.ISO8859_8
	case "cp1250":
		return charmap.Windows1250
	case "cp1251":
		return charmap.Windows1251
	case "cp1256":
		return charmap.Windows1256
	case "cp1257":
		return charmap.Windows1257
	case "cp850":
		return charmap.CodePage850
	case "cp852":
		return charmap.CodePage852
	case "cp866":
		return charmap.CodePage866
	case "koi8r":
		return charmap.KOI8R
	case "koi8u":
		return charmap.KOI8U
	case "macroman":
		return charmap.Macintosh
	case "tis620":
		return charmap.Windows874
	}
	return nil
}

// cp1252High holds the characters of bytes 0x80-0x9F in MySQL's latin1
// (Windows-1252, with the five unassigned bytes mapped to C1 controls as
// MySQL does). Bytes 0xA0-0xFF are the Unicode code points of equal value.
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// decode returns b as UTF-8. Results that need conversion are appended to
// *arena; b itself is returned when it is already valid.
func (c textCodec) decode(b []byte, arena *slab) []byte {
	switch c.kind {
	case codecUTF8, codecBinary:
		return b
	case codecLatin1:
		i := 0
		for i < len(b) && b[i] < utf8.RuneSelf {
			i++
		}
		if i == len(b) {
			return b
		}
		out := arena.begin(len(b) * 3)
		out = append(out, b[:i]...)
		for _, ch := range b[i:] {
			switch {
			case ch < 0x80:
				out = append(out, ch)
			case ch < 0xA0:
				out = utf8.AppendRune(out, cp1252High[ch-0x80])
			default:
				out = utf8.AppendRune(out, rune(ch))
			}
		}
		return arena.end(out)
	case codecOther:
		if out, err := c.enc.NewDecoder().Bytes(b); err == nil {
			return out
		}
	}
	if utf8.Valid(b) {
		return b
	}
	return []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
}

// slab hands out byte slices carved from larger blocks, so that the text a
// rows event renders (temporal values, decimals, converted strings) costs a
// few allocations per event rather than one per value. Slices are capped, so
// appending to one never overwrites its neighbour.
type slab struct{ buf []byte }

const slabBlock = 8 << 10

// begin returns an empty slice with room for at least n bytes.
func (s *slab) begin(n int) []byte {
	if cap(s.buf)-len(s.buf) < n {
		size := slabBlock
		if n > size/4 {
			return make([]byte, 0, n) // large values get their own array
		}
		s.buf = make([]byte, 0, size)
	}
	return s.buf[len(s.buf):len(s.buf)]
}

// end publishes out, which begin returned and the caller appended to.
func (s *slab) end(out []byte) []byte {
	n := len(out)
	if n == 0 {
		return out
	}
	if cap(s.buf)-len(s.buf) >= n && &s.buf[len(s.buf):cap(s.buf)][0] == &out[:1][0] {
		s.buf = s.buf[:len(s.buf)+n]
	}
	return out[:n:n]
}
