package kafka

import (
	"unicode/utf16"

	"github.com/opendts/opendts/internal/cdc"
)

// KeySeparator joins the values of a multi-column primary key in the
// partition key text of the primary_key policy.
const KeySeparator = ","

// Partition returns the partition of a record whose partition key text is
// key, under policy, in a topic of n partitions:
//
//   - "partition0", n <= 1, or an unknown policy: 0;
//   - "table" and "primary_key": |h| mod n, where h is Java's
//     String.hashCode of key and |h| is computed without overflow.
//
// For every h but math.MinInt32 that equals Java's Math.abs(h) % n. For
// math.MinInt32, where Java's Math.abs overflows and the Java expression
// is negative, it is 2^31 mod n, the same as upstream Canal's
// Math.abs(Math.abs(h) % n). The result is always in [0, n).
func Partition(policy string, key string, n int32) int32 {
	if n <= 1 {
		return 0
	}
	switch policy {
	case PolicyTable, PolicyPrimaryKey:
		return partitionOf(javaHashCode(key), n)
	}
	return 0
}

// partitionOf maps a Java hash code to a partition in [0, n), n >= 1.
func partitionOf(h int32, n int32) int32 {
	a := int64(h)
	if a < 0 {
		a = -a // exact in 64 bits, also for math.MinInt32
	}
	return int32(a % int64(n))
}

// javaHashCode returns Java's String.hashCode() of s: h = 31*h + c over the
// string's UTF-16 code units, in int32 arithmetic that wraps on overflow.
// s is read as UTF-8; a code point above U+FFFF counts as its two
// surrogates, as in Java, and each byte that is not valid UTF-8 counts as
// U+FFFD.
func javaHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		h = javaHashRune(h, r)
	}
	return h
}

// javaHashBytes is javaHashCode of string(b), without the conversion.
func javaHashBytes(b []byte) int32 {
	var h int32
	for _, r := range string(b) { // does not allocate
		h = javaHashRune(h, r)
	}
	return h
}

func javaHashRune(h int32, r rune) int32 {
	if r <= 0xFFFF {
		return 31*h + int32(r)
	}
	hi, lo := utf16.EncodeRune(r)
	return 31*(31*h+hi) + lo
}

// AppendKey appends the partition key text of ev under policy to dst and
// reports whether the event has one. An event without a key goes to
// partition 0. The key text is:
//
//   - "partition0": none.
//   - "table": database + "." + table ("shop.orders") for row events and
//     for DDL that names a table; none for DDL without a table (CREATE
//     DATABASE).
//   - "primary_key": the text of each primary key column, as
//     cdc.Value.AppendText renders it ("42", "2024-05-01 10:00:00",
//     raw bytes for binary columns, "" for NULL), joined with
//     KeySeparator, in key order. The AFTER image is used for INSERT,
//     UPDATE and READ, the BEFORE image for DELETE. None for DDL and for
//     tables without a primary or unique key.
//
// For an UPDATE that changes the key, the AFTER image is hashed, so the
// row's later changes, which carry the new key, follow it in the same
// partition. The messages written under the old key may sit in another
// partition: a consumer that reads partitions independently can see the
// key-changing UPDATE before them. See docs/kafka.md.
func AppendKey(dst []byte, policy string, ev *cdc.Event) ([]byte, bool) {
	switch policy {
	case PolicyTable:
		t := ev.Table
		if t == nil || ev.Op == cdc.Commit {
			return dst, false
		}
		dst = append(dst, t.Schema...)
		dst = append(dst, '.')
		return append(dst, t.Name...), true
	case PolicyPrimaryKey:
		t := ev.Table
		if t == nil || len(t.PK) == 0 {
			return dst, false
		}
		var row cdc.Row
		switch ev.Op {
		case cdc.Insert, cdc.Update, cdc.Read:
			row = ev.After
		case cdc.Delete:
			row = ev.Before
		default: // DDL, Commit
			return dst, false
		}
		if len(row) == 0 { // an UPDATE or DELETE decoded without the image
			if row = ev.Before; len(row) == 0 {
				return dst, false
			}
		}
		for i, ci := range t.PK {
			if i > 0 {
				dst = append(dst, KeySeparator...)
			}
			if ci < len(row) && ci < len(t.Columns) && !row[ci].IsNull() {
				dst = row[ci].AppendText(dst, &t.Columns[ci])
			}
		}
		return dst, true
	}
	return dst, false
}
