package cdc

import (
	"fmt"
	"strconv"
	"strings"
)

// Flavor is the source server family, which decides GTID syntax.
type Flavor string

const (
	// MySQL covers MySQL 5.7/8.x and PolarDB for MySQL (UUID:interval GTIDs).
	MySQL Flavor = "mysql"
	// MariaDB covers MariaDB 10.x/11.x (domain-server-sequence GTIDs).
	MariaDB Flavor = "mariadb"
)

// Position is a point in a source's binlog. File and Offset are always set by
// the binlog reader; GTIDSet is set when the server has GTIDs enabled and is
// the set of transactions executed up to and including this point (MySQL
// syntax "uuid:1-5,..." or MariaDB syntax "0-1-100,...").
type Position struct {
	Flavor  Flavor `json:"flavor,omitempty"`
	File    string `json:"file,omitempty"`
	Offset  uint64 `json:"offset,omitempty"`
	GTIDSet string `json:"gtid_set,omitempty"`
	// GTID is the identifier of the transaction this event belongs to, if any.
	GTID string `json:"gtid,omitempty"`
}

// IsZero reports whether p names no position.
func (p Position) IsZero() bool { return p.File == "" && p.GTIDSet == "" }

// String renders the position for logs: "file:offset" and the GTID set if any.
func (p Position) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(p.Offset, 10))
	}
	if p.GTIDSet != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("gtid=")
		b.WriteString(p.GTIDSet)
	}
	return b.String()
}

// Compare orders two positions of the same server by file and offset.
// Binlog file names sort lexically within one server (name.000001 ...).
func (p Position) Compare(q Position) int {
	if c := strings.Compare(p.File, q.File); c != 0 {
		return c
	}
	switch {
	case p.Offset < q.Offset:
		return -1
	case p.Offset > q.Offset:
		return 1
	}
	return 0
}

// ParseFilePos parses "file:offset" as written in task files.
func ParseFilePos(s string) (Position, error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 {
		return Position{}, fmt.Errorf("binlog position %q: want file:offset, such as mysql-bin.000003:4", s)
	}
	off, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("binlog position %q: offset is not a number", s)
	}
	return Position{File: s[:i], Offset: off}, nil
}
