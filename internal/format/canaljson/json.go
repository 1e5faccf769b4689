package canaljson

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = appendRune(dst, r, size == 1)
		i += size
	}
	return append(dst, '"')
}

// appendStringBytes appends b, UTF-8 text, as a JSON string; invalid bytes
// become U+FFFD.
func appendStringBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		dst = appendRune(dst, r, size == 1)
		i += size
	}
	return append(dst, '"')
}

// appendLatin1 appends b with each byte taken as the Unicode code point of
// its value (ISO-8859-1), as a JSON string.
func appendLatin1(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for _, c := range b {
		if c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
			continue
		}
		if c < 0xa0 { // C1 controls: escape, keeping the output readable
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			continue
		}
		dst = utf8.AppendRune(dst, rune(c))
	}
	return append(dst, '"')
}

func appendASCII(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c >= 0x20 && c != 0x7f:
		return append(dst, c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

func appendRune(dst []byte, r rune, invalid bool) []byte {
	switch {
	case invalid:
		return append(dst, `\ufffd`...)
	case r == '\u2028':
		return append(dst, `\u2028`...)
	case r == '\u2029':
		return append(dst, `\u2029`...)
	}
	return utf8.AppendRune(dst, r)
}

// needsEscape reports whether b holds a byte that appendASCII would escape
// or a non-ASCII byte.
func needsEscape(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return true
		}
	}
	return false
}
