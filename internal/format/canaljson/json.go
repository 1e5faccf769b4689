package canaljson

import "unicode/utf8"

// JSON string escaping. Output is valid JSON for any input: '"' and '\' are
// escaped, as are the C0 controls, DEL and the C1 controls (U+0080-U+009F,
// which binary data decoded as ISO-8859-1 is full of) so that messages stay
// printable, and U+2028/U+2029 so that the text is also a valid JavaScript
// literal. Invalid UTF-8 becomes U+FFFD, one per invalid byte. HTML
// characters (<, >, &) are written as they are, unlike encoding/json.

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
		dst = appendRune(dst, r, size)
		i += size
	}
	return append(dst, '"')
}

// appendStringBytes appends b, UTF-8 text, as a JSON string.
func appendStringBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(b); {
		// Copy runs of plain ASCII at once: most text is.
		j := i
		for j < len(b) && safe(b[j]) {
			j++
		}
		dst = append(dst, b[i:j]...)
		if i = j; i == len(b) {
			break
		}
		c := b[i]
		if c < utf8.RuneSelf {
			dst = appendASCII(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		dst = appendRune(dst, r, size)
		i += size
	}
	return append(dst, '"')
}

// appendLatin1 appends b with each byte taken as the Unicode code point of
// its value (ISO-8859-1), as a JSON string.
func appendLatin1(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	for _, c := range b {
		switch {
		case safe(c):
			dst = append(dst, c)
		case c < utf8.RuneSelf:
			dst = appendASCII(dst, c)
		case c < 0xa0:
			dst = appendU(dst, rune(c))
		default:
			dst = append(dst, 0xc0|c>>6, 0x80|c&0x3f) // two-byte UTF-8 of U+00A0-U+00FF
		}
	}
	return append(dst, '"')
}

// safe reports whether c is written as it is: printable ASCII other than
// '"' and '\'.
func safe(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

func appendASCII(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	if safe(c) {
		return append(dst, c)
	}
	return appendU(dst, rune(c))
}

// appendRune writes one decoded non-ASCII rune; size 1 means invalid UTF-8.
func appendRune(dst []byte, r rune, size int) []byte {
	switch {
	case size == 1:
		return append(dst, `\ufffd`...)
	case r < 0xa0, r == '\u2028', r == '\u2029':
		return appendU(dst, r)
	}
	return utf8.AppendRune(dst, r)
}

// appendU writes r (< U+10000) as a \uXXXX escape.
func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// needsEscape reports whether b holds a byte that is not written as it is.
func needsEscape(b []byte) bool {
	for _, c := range b {
		if !safe(c) {
			return true
		}
	}
	return false
}
