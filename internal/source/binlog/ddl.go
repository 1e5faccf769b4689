package binlog

import (
	"bytes"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // value expressions for the parser
)

// queryKind classifies a QUERY event's statement.
type queryKind uint8

const (
	queryOther     queryKind = iota
	queryBegin               // BEGIN, XA START: a transaction starts
	queryCommit              // COMMIT, ROLLBACK: a transaction ends
	querySavepoint           // SAVEPOINT, ROLLBACK TO, XA END: inside a transaction, no effect
)

// classifyQuery recognises transaction control statements without parsing.
func classifyQuery(q []byte) queryKind {
	q = bytes.TrimSpace(q)
	switch {
	case bytes.EqualFold(q, []byte("BEGIN")):
		return queryBegin
	case bytes.EqualFold(q, []byte("COMMIT")), bytes.EqualFold(q, []byte("ROLLBACK")):
		return queryCommit
	}
	if len(q) == 0 {
		return queryOther
	}
	switch q[0] | 0x20 { // only these initials can start a control statement
	case 's', 'r', 'x':
	default:
		return queryOther
	}
	f := strings.Fields(strings.ToUpper(string(q[:min(len(q), 32)])))
	switch {
	case f[0] == "SAVEPOINT", f[0] == "RELEASE", f[0] == "ROLLBACK": // ROLLBACK TO [SAVEPOINT] x
		return querySavepoint
	case f[0] == "XA" && len(f) > 1 && (f[1] == "START" || f[1] == "BEGIN"):
		return queryBegin
	case f[0] == "XA" && len(f) > 1 && f[1] == "END":
		return querySavepoint
	}
	return queryOther
}

// ddlInfo is what a DDL statement names.
type ddlInfo struct {
	db    string   // database the statement acts in
	table string   // the one table it changes, or ""
	stmt  ast.Node // parsed statement; nil when the parser failed
}

// ddlParser recognises DDL statements. It is not safe for concurrent use.
type ddlParser struct{ p *parser.Parser }

func newDDLParser() *ddlParser { return &ddlParser{p: parser.New()} }

// parse reports whether query (run with default database schema) is DDL
// to pass on, and what it names. Statements on temporary tables are not.
func (d *ddlParser) parse(schema, query string) (ddlInfo, bool) {
	stmt, err := d.p.ParseOneStmt(query, "", "")
	if err != nil {
		if q, ok := rewriteSpatial(query); ok {
			stmt, err = d.p.ParseOneStmt(q, "", "")
		}
		if err != nil {
			return fallbackDDL(schema, query)
		}
	}
	info := ddlInfo{db: schema, stmt: stmt}
	table := func(t *ast.TableName) {
		if t == nil {
			return
		}
		info.table = t.Name.O
		if t.Schema.O != "" {
			info.db = t.Schema.O
		}
	}
	switch s := stmt.(type) {
	case *ast.CreateDatabaseStmt:
		info.db = s.Name.O
	case *ast.AlterDatabaseStmt:
		if s.Name.O != "" {
			info.db = s.Name.O
		}
	case *ast.DropDatabaseStmt:
		info.db = s.Name.O
	case *ast.CreateTableStmt:
		if s.TemporaryKeyword != ast.TemporaryNone {
			return ddlInfo{}, false
		}
		table(s.Table)
	case *ast.DropTableStmt:
		if !s.IsView && s.TemporaryKeyword != ast.TemporaryNone {
			return ddlInfo{}, false
		}
		if len(s.Tables) == 1 {
			table(s.Tables[0])
		} else if len(s.Tables) > 1 && s.Tables[0].Schema.O != "" {
			info.db = s.Tables[0].Schema.O
		}
	case *ast.RenameTableStmt:
		if len(s.TableToTables) == 1 {
			table(s.TableToTables[0].OldTable)
		} else if len(s.TableToTables) > 1 && s.TableToTables[0].OldTable.Schema.O != "" {
			info.db = s.TableToTables[0].OldTable.Schema.O
		}
	case *ast.AlterTableStmt:
		table(s.Table)
	case *ast.TruncateTableStmt:
		table(s.Table)
	case *ast.CreateIndexStmt:
		table(s.Table)
	case *ast.DropIndexStmt:
		table(s.Table)
	case *ast.CreateViewStmt:
		table(s.ViewName)
	case ast.DDLNode:
	default:
		return ddlInfo{}, false
	}
	return info, true
}

// fallbackDDL handles statements the parser does not know (MariaDB
// extensions such as CREATE OR REPLACE TABLE, sequences): by their leading
// keywords, naming the table after the TABLE keyword if there is one.
func fallbackDDL(schema, query string) (ddlInfo, bool) {
	words := sqlWords(query, 12)
	if len(words) < 2 {
		return ddlInfo{}, false
	}
	switch strings.ToUpper(words[0]) {
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
	default:
		return ddlInfo{}, false
	}
	info := ddlInfo{db: schema}
	for i, w := range words[1:] {
		switch strings.ToUpper(w) {
		case "USER", "ROLE", "SERVER":
			return ddlInfo{}, false
		case "TEMPORARY":
			return ddlInfo{}, false
		case "DATABASE", "SCHEMA":
			if rest := skipIfExists(words[i+2:]); len(rest) > 0 {
				info.db = unquote(rest[0])
			}
			return info, true
		case "TABLE":
			if rest := skipIfExists(words[i+2:]); len(rest) > 0 {
				db, t := splitName(rest[0])
				if db != "" {
					info.db = db
				}
				info.table = t
			}
			return info, true
		}
	}
	return info, true
}

func skipIfExists(w []string) []string {
	for len(w) > 0 {
		switch strings.ToUpper(w[0]) {
		case "IF", "NOT", "EXISTS":
			w = w[1:]
			continue
		}
		break
	}
	return w
}

// sqlWords splits the start of a statement into at most n words, skipping
// comments; a backquoted identifier (possibly qualified) is one word.
func sqlWords(q string, n int) []string {
	var out []string
	for i := 0; i < len(q) && len(out) < n; {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case strings.HasPrefix(q[i:], "-- ") || c == '#':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return out
			}
			i += end + 1
		default:
			j := i
			for j < len(q) {
				if q[j] == '`' {
					k := strings.IndexByte(q[j+1:], '`')
					if k < 0 {
						j = len(q)
						break
					}
					j += k + 2
					continue
				}
				if q[j] == ' ' || q[j] == '\t' || q[j] == '\n' || q[j] == '\r' || q[j] == '(' || q[j] == ';' {
					break
				}
				j++
			}
			if j == i {
				j++
			}
			out = append(out, q[i:j])
			i = j
		}
	}
	return out
}

// splitName splits `db`.`t` or db.t.
func splitName(s string) (db, table string) {
	if s == "" {
		return "", ""
	}
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '`':
			inQuote = !inQuote
		case '.':
			if !inQuote {
				return unquote(s[:i]), unquote(s[i+1:])
			}
		}
	}
	return "", unquote(s)
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
		return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
	}
	return s
}

// spatialMark starts the one member of the SET type that rewriteSpatial
// puts in place of a spatial type; the member names the type.
const spatialMark = "\x00geometry:"

// rewriteSpatial replaces spatial column types, which the parser does not
// know, by SET('\x00geometry:point') and the like, outside quotes.
func rewriteSpatial(q string) (string, bool) {
	var b strings.Builder
	changed := false
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(q) && q[j] != c {
				if q[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			j = min(j+1, len(q))
			b.WriteString(q[i:j])
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z' || q[j] >= '0' && q[j] <= '9') {
				j++
			}
			w := strings.ToLower(q[i:j])
			switch w {
			case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
				"geometrycollection", "geomcollection":
				if w == "geomcollection" {
					w = "geometrycollection"
				}
				b.WriteString("SET('" + spatialMark + w + "')")
				changed = true
			default:
				b.WriteString(q[i:j])
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), changed
}
