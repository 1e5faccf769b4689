package binlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
)

// tracker follows table definitions for servers whose TABLE_MAP events
// carry no column names (binlog_row_metadata=MINIMAL, or servers before
// MySQL 8.0.1 / MariaDB 10.5). It starts from information_schema at Open
// and applies each DDL statement in binlog order, so a row is named by the
// definition in effect when it was written.
//
// It knows only what MINIMAL metadata lacks: names, signedness, charsets,
// ENUM/SET members, geometry subtypes and the primary key; types and sizes
// always come from the TABLE_MAP. Definitions loaded at Open are the
// current ones, so starting from a position before later DDL mis-names
// rows of the tables that DDL changed, until that DDL is read.
type tracker struct {
	defs map[string]*tableDef // by schema + "\x00" + table; nil value: known not to exist
	gen  uint64
	// load reads one table's current definition from the server, for tables
	// first seen after Open (nil, nil if it does not exist). May be nil.
	load func(schema, table string) (*tableDef, error)
	log  *slog.Logger
}

// tableDef is one tracked table definition.
type tableDef struct {
	columns []defColumn
	pk      []int
	charset string // table default, for columns added later
	gen     uint64
}

// defColumn is what the tracker knows of a column.
type defColumn struct {
	name     string
	unsigned bool
	charset  string
	elems    []string
	geometry string // "point", ...; "" if not a geometry subtype
}

func newTracker(log *slog.Logger) *tracker {
	return &tracker{defs: map[string]*tableDef{}, log: log}
}

func tkey(schema, table string) string { return schema + "\x00" + table }

// set installs a definition.
func (t *tracker) set(schema, table string, d *tableDef) {
	t.gen++
	if d != nil {
		d.gen = t.gen
	}
	t.defs[tkey(schema, table)] = d
}

// lookup returns the definition of schema.table and its generation,
// loading it from the server if it was never seen.
func (t *tracker) lookup(schema, table string) (*tableDef, uint64) {
	k := tkey(schema, table)
	d, ok := t.defs[k]
	if !ok && t.load != nil {
		var err error
		if d, err = t.load(schema, table); err != nil {
			t.log.Warn("load table definition", slog.String("db", schema), slog.String("table", table), slog.String("err", err.Error()))
			return nil, 0
		}
		t.set(schema, table, d)
	}
	if d == nil {
		return nil, 0
	}
	return d, d.gen
}

// generation returns the generation of schema.table's definition (0 if
// unknown). It is nil-safe.
func (t *tracker) generation(schema, table string) uint64 {
	if t == nil {
		return 0
	}
	if d := t.defs[tkey(schema, table)]; d != nil {
		return d.gen
	}
	return 0
}

// apply changes definitions as the DDL statement info describes.
func (t *tracker) apply(schema string, info ddlInfo) {
	name := func(tn *ast.TableName) (string, string) {
		if tn.Schema.O != "" {
			return tn.Schema.O, tn.Name.O
		}
		return schema, tn.Name.O
	}
	switch s := info.stmt.(type) {
	case *ast.CreateTableStmt:
		db, tb := name(s.Table)
		switch {
		case s.ReferTable != nil:
			rdb, rtb := name(s.ReferTable)
			if src, _ := t.lookup(rdb, rtb); src != nil {
				t.set(db, tb, src.clone())
				return
			}
			delete(t.defs, tkey(db, tb))
		case s.Select != nil:
			delete(t.defs, tkey(db, tb)) // columns come from the query: load when first used
		default:
			t.set(db, tb, createDef(s))
		}
	case *ast.AlterTableStmt:
		db, tb := name(s.Table)
		d, _ := t.lookup(db, tb)
		if d == nil {
			return
		}
		d = d.clone()
		for _, spec := range s.Specs {
			if spec.Tp == ast.AlterTableRenameTable {
				delete(t.defs, tkey(db, tb))
				db, tb = name(spec.NewTable)
				continue
			}
			if err := d.alter(spec); err != nil {
				t.log.Warn("tracked definition may be wrong", slog.String("db", db), slog.String("table", tb), slog.String("err", err.Error()))
			}
		}
		t.set(db, tb, d)
	case *ast.DropTableStmt:
		for _, tn := range s.Tables {
			db, tb := name(tn)
			t.set(db, tb, nil)
		}
	case *ast.RenameTableStmt:
		for _, tt := range s.TableToTables {
			odb, otb := name(tt.OldTable)
			ndb, ntb := name(tt.NewTable)
			d, _ := t.lookup(odb, otb)
			t.set(odb, otb, nil)
			if d != nil {
				t.set(ndb, ntb, d.clone())
			} else {
				delete(t.defs, tkey(ndb, ntb))
			}
		}
	case *ast.DropDatabaseStmt:
		prefix := s.Name.O + "\x00"
		for k := range t.defs {
			if strings.HasPrefix(k, prefix) {
				delete(t.defs, k)
			}
		}
		t.gen++
	case nil:
		// Not parsed: forget the named table so it is reloaded when used.
		if info.table != "" {
			delete(t.defs, tkey(info.db, info.table))
			t.gen++
		}
	}
}

func (d *tableDef) clone() *tableDef {
	c := *d
	c.columns = append([]defColumn(nil), d.columns...)
	c.pk = append([]int(nil), d.pk...)
	return &c
}

func (d *tableDef) index(name string) int {
	for i := range d.columns {
		if strings.EqualFold(d.columns[i].name, name) {
			return i
		}
	}
	return -1
}

// columnDef converts a parsed column definition.
func columnDef(cd *ast.ColumnDef, tableCharset string) defColumn {
	c := defColumn{name: cd.Name.Name.O}
	if ft := cd.Tp; ft != nil {
		c.unsigned = ft.GetFlag()&pmysql.UnsignedFlag != 0
		c.charset = ft.GetCharset()
		switch ft.GetType() {
		case pmysql.TypeVarchar, pmysql.TypeVarString, pmysql.TypeString, pmysql.TypeBlob, pmysql.TypeTinyBlob,
			pmysql.TypeMediumBlob, pmysql.TypeLongBlob, pmysql.TypeEnum, pmysql.TypeSet:
			if c.charset == "" {
				c.charset = tableCharset
			}
		default:
			c.charset = ""
		}
		c.elems = ft.GetElems()
		if len(c.elems) == 1 && strings.HasPrefix(c.elems[0], spatialMark) { // see rewriteSpatial
			c.geometry, c.elems, c.charset = strings.TrimPrefix(c.elems[0], spatialMark), nil, "binary"
		}
	}
	return c
}

func createDef(s *ast.CreateTableStmt) *tableDef {
	d := &tableDef{}
	for _, o := range s.Options {
		if o.Tp == ast.TableOptionCharset {
			d.charset = o.StrValue
		}
	}
	for _, cd := range s.Cols {
		d.columns = append(d.columns, columnDef(cd, d.charset))
		for _, o := range cd.Options {
			if o.Tp == ast.ColumnOptionPrimaryKey {
				d.pk = []int{len(d.columns) - 1}
			}
		}
	}
	for _, c := range s.Constraints {
		if c.Tp == ast.ConstraintPrimaryKey {
			d.setPK(c)
		}
	}
	return d
}

func (d *tableDef) setPK(c *ast.Constraint) {
	d.pk = d.pk[:0]
	for _, k := range c.Keys {
		if k.Column != nil {
			if i := d.index(k.Column.Name.O); i >= 0 {
				d.pk = append(d.pk, i)
			}
		}
	}
}

// place inserts c at pos (nil: at the end).
func (d *tableDef) place(c defColumn, pos *ast.ColumnPosition) error {
	at := len(d.columns)
	if pos != nil {
		switch pos.Tp {
		case ast.ColumnPositionFirst:
			at = 0
		case ast.ColumnPositionAfter:
			i := d.index(pos.RelativeColumn.Name.O)
			if i < 0 {
				return fmt.Errorf("no column %s to place after", pos.RelativeColumn.Name.O)
			}
			at = i + 1
		}
	}
	d.columns = append(d.columns, defColumn{})
	copy(d.columns[at+1:], d.columns[at:])
	d.columns[at] = c
	// Primary key indexes at or after the insertion point move right.
	for i, k := range d.pk {
		if k >= at {
			d.pk[i] = k + 1
		}
	}
	return nil
}

// remove deletes column i, fixing primary key indexes.
func (d *tableDef) remove(i int) {
	d.columns = append(d.columns[:i], d.columns[i+1:]...)
	pk := d.pk[:0]
	for _, k := range d.pk {
		switch {
		case k < i:
			pk = append(pk, k)
		case k > i:
			pk = append(pk, k-1)
		}
	}
	d.pk = pk
}

// alter applies one ALTER TABLE clause.
func (d *tableDef) alter(spec *ast.AlterTableSpec) error {
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		pos := spec.Position
		for _, cd := range spec.NewColumns {
			if spec.IfNotExists && d.index(cd.Name.Name.O) >= 0 {
				continue
			}
			if err := d.place(columnDef(cd, d.charset), pos); err != nil {
				return err
			}
			// Further columns of one ADD (a, b) follow the previous one.
			if pos != nil && pos.Tp != ast.ColumnPositionNone {
				pos = &ast.ColumnPosition{Tp: ast.ColumnPositionAfter, RelativeColumn: cd.Name}
			}
		}
	case ast.AlterTableDropColumn:
		i := d.index(spec.OldColumnName.Name.O)
		if i < 0 {
			if spec.IfExists {
				return nil
			}
			return fmt.Errorf("no column %s to drop", spec.OldColumnName.Name.O)
		}
		d.remove(i)
	case ast.AlterTableModifyColumn, ast.AlterTableChangeColumn:
		if len(spec.NewColumns) == 0 {
			return nil
		}
		old := spec.NewColumns[0].Name.Name.O
		if spec.Tp == ast.AlterTableChangeColumn {
			old = spec.OldColumnName.Name.O
		}
		i := d.index(old)
		if i < 0 {
			return fmt.Errorf("no column %s to change", old)
		}
		c := columnDef(spec.NewColumns[0], d.charset)
		if spec.Position == nil || spec.Position.Tp == ast.ColumnPositionNone {
			d.columns[i] = c
			return nil
		}
		inPK := -1
		for j, k := range d.pk {
			if k == i {
				inPK = j
			}
		}
		d.remove(i)
		if err := d.place(c, spec.Position); err != nil {
			return err
		}
		if inPK >= 0 {
			d.pk = append(d.pk, 0)
			copy(d.pk[inPK+1:], d.pk[inPK:])
			d.pk[inPK] = d.index(c.name)
		}
	case ast.AlterTableRenameColumn:
		i := d.index(spec.OldColumnName.Name.O)
		if i < 0 {
			return fmt.Errorf("no column %s to rename", spec.OldColumnName.Name.O)
		}
		d.columns[i].name = spec.NewColumnName.Name.O
	case ast.AlterTableAddConstraint:
		if spec.Constraint != nil && spec.Constraint.Tp == ast.ConstraintPrimaryKey {
			d.setPK(spec.Constraint)
		}
	case ast.AlterTableDropPrimaryKey:
		d.pk = nil
	}
	return nil
}

// loadTracker reads the definitions of the included tables from
// information_schema and returns a tracker that loads unknown tables on
// demand (over a new connection, as it runs on the replication goroutine).
func loadTracker(ctx context.Context, conn *client.Conn, cfg *Config, log *slog.Logger) (*tracker, error) {
	t := newTracker(log)
	defs, err := loadDefs(conn, "", "")
	if err != nil {
		return nil, err
	}
	for k, d := range defs {
		schema, table, _ := strings.Cut(k, "\x00")
		if cfg.Include(schema, table) {
			t.set(schema, table, d)
		}
	}
	lctx := context.WithoutCancel(ctx)
	t.load = func(schema, table string) (*tableDef, error) {
		c, err := dial(lctx, cfg)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		defs, err := loadDefs(c, schema, table)
		if err != nil {
			return nil, err
		}
		return defs[tkey(schema, table)], nil
	}
	return t, nil
}

// loadDefs reads table definitions: of schema.table, or of every table
// outside the system schemas when schema is "".
func loadDefs(conn *client.Conn, schema, table string) (map[string]*tableDef, error) {
	where := "TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')"
	var args []any
	if schema != "" {
		where, args = "TABLE_SCHEMA = ? AND TABLE_NAME = ?", []any{schema, table}
	}
	defs := map[string]*tableDef{}
	r, err := conn.Execute("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IFNULL(CHARACTER_SET_NAME, '') "+
		"FROM information_schema.COLUMNS WHERE "+where+" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION", args...)
	if err != nil {
		return nil, fmt.Errorf("read column definitions: %w", err)
	}
	str := func(r *mysql.Result, row, col int) string {
		s, _ := r.GetString(row, col)
		return strings.Clone(s)
	}
	for i := 0; i < r.RowNumber(); i++ {
		k := tkey(str(r, i, 0), str(r, i, 1))
		d := defs[k]
		if d == nil {
			d = &tableDef{}
			defs[k] = d
		}
		ct, dt := strings.ToLower(str(r, i, 3)), strings.ToLower(str(r, i, 4))
		c := defColumn{name: str(r, i, 2), unsigned: strings.Contains(ct, "unsigned"), charset: str(r, i, 5)}
		switch dt {
		case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
			c.charset = "binary"
		case "enum", "set":
			c.elems = parseElems(str(r, i, 3))
		case "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
			c.geometry = dt
		}
		d.columns = append(d.columns, c)
		if d.charset == "" && c.charset != "" {
			d.charset = c.charset
		}
	}
	r.Close()
	r, err = conn.Execute("SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE "+
		where+" AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX", args...)
	if err != nil {
		return nil, fmt.Errorf("read primary keys: %w", err)
	}
	defer r.Close()
	for i := 0; i < r.RowNumber(); i++ {
		if d := defs[tkey(str(r, i, 0), str(r, i, 1))]; d != nil {
			if j := d.index(str(r, i, 2)); j >= 0 {
				d.pk = append(d.pk, j)
			}
		}
	}
	return defs, nil
}

// parseElems reads the members of "enum('a','b”c')" or "set(...)".
func parseElems(columnType string) []string {
	open := strings.IndexByte(columnType, '(')
	if open < 0 {
		return nil
	}
	var out []string
	s := columnType[open+1:]
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			return out
		}
		s = s[i+1:]
		var b strings.Builder
		for len(s) > 0 {
			if s[0] == '\'' {
				if len(s) > 1 && s[1] == '\'' {
					b.WriteByte('\'')
					s = s[2:]
					continue
				}
				s = s[1:]
				break
			}
			if s[0] == '\\' && len(s) > 1 {
				b.WriteByte(s[1])
				s = s[2:]
				continue
			}
			b.WriteByte(s[0])
			s = s[1:]
		}
		out = append(out, b.String())
	}
}
