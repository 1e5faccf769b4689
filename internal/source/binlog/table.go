package binlog

import (
	"fmt"

	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/opendts/opendts/internal/cdc"
)

// tableInfo is a compiled TABLE_MAP: the table definition events carry and
// the plan for decoding its row images. Excluded tables have a nil table.
type tableInfo struct {
	table    *cdc.Table
	decoders []colDecoder
	sig      string // TABLE_MAP signature this was built from
	key      string // schema + "\x00" + table
	tracked  uint64 // tracker generation the names came from; 0 with FULL metadata
}

// tables caches compiled TABLE_MAPs by signature (the TABLE_MAP body after
// the table id and flags: names, types, metadata), so that every transaction
// touching an unchanged table shares one *cdc.Table. A new signature for a
// known table replaces the old entry and increments Table.Version.
type tables struct {
	bySig    map[string]*tableInfo
	byName   map[string]*tableInfo
	versions map[string]uint64
}

func newTables() *tables {
	return &tables{bySig: map[string]*tableInfo{}, byName: map[string]*tableInfo{}, versions: map[string]uint64{}}
}

// get returns the cached entry for sig, or nil.
func (t *tables) get(sig []byte) *tableInfo { return t.bySig[string(sig)] }

// put caches ti under sig, replacing the table's previous definition, and
// sets its version.
func (t *tables) put(sig []byte, ti *tableInfo) {
	ti.sig = string(sig)
	if old := t.byName[ti.key]; old != nil {
		delete(t.bySig, old.sig)
	}
	v := t.versions[ti.key] + 1
	t.versions[ti.key] = v
	if ti.table != nil {
		ti.table.Version = v
	}
	t.bySig[ti.sig] = ti
	t.byName[ti.key] = ti
}

// tableEnv is what compiling a TABLE_MAP needs besides the event.
type tableEnv struct {
	flavor     cdc.Flavor
	widths     bool // integer display widths in ColumnType
	collations collations
	include    func(schema, table string) bool
	tracker    *tracker // nil unless the server logs MINIMAL metadata
}

// compile builds the tableInfo of a TABLE_MAP event.
func (env *tableEnv) compile(tm *replication.TableMapEvent) (*tableInfo, error) {
	schema, name := string(tm.Schema), string(tm.Table)
	ti := &tableInfo{key: schema + "\x00" + name}
	if !env.include(schema, name) {
		return ti, nil
	}
	n := int(tm.ColumnCount)
	if len(tm.ColumnType) != n || len(tm.ColumnMeta) != n {
		return nil, fmt.Errorf("table map of %s.%s: %d columns but %d types", schema, name, n, len(tm.ColumnType))
	}
	metas := make([]colMeta, n)
	for i := range metas {
		metas[i] = colMeta{typ: tm.ColumnType[i], meta: tm.ColumnMeta[i]}
		if _, nullable := tm.Nullable(i); nullable {
			metas[i].nullable = true
		}
	}
	unsigned := tm.UnsignedMap()
	for i, u := range unsigned {
		metas[i].unsigned = u
	}
	charsetOf := func(m map[int]uint64) {
		for i, id := range m {
			metas[i].charset = env.collations.charset(id)
		}
	}
	charsetOf(tm.CollationMap())
	charsetOf(tm.EnumSetCollationMap())
	for i, g := range tm.GeometryTypeMap() {
		metas[i].geometry, metas[i].hasGeom = g, true
	}
	t := &cdc.Table{Schema: schema, Name: name}
	if names := tm.ColumnNameString(); len(names) == n {
		for i := range metas {
			metas[i].name = names[i]
			if metas[i].charset == "" && isCharType(&metas[i]) {
				metas[i].charset = "utf8mb4" // metadata without charsets: assume the common case
			}
		}
		elems := func(m map[int][]string) {
			for i, e := range m {
				metas[i].elems = decodeElems(e, metas[i].charset)
			}
		}
		elems(tm.EnumStrValueMap())
		elems(tm.SetStrValueMap())
		for _, k := range tm.PrimaryKey {
			if int(k) < n {
				t.PK = append(t.PK, int(k))
			}
		}
	} else {
		gen, err := env.fromTracker(schema, name, metas, unsigned == nil, t)
		if err != nil {
			return nil, err
		}
		ti.tracked = gen
	}
	t.Columns = make([]cdc.Column, n)
	ti.decoders = make([]colDecoder, n)
	for i := range metas {
		c, d, err := makeColumn(metas[i], env.widths)
		if err != nil {
			return nil, fmt.Errorf("table %s.%s: %w", schema, name, err)
		}
		t.Columns[i], ti.decoders[i] = c, d
	}
	for _, k := range t.PK {
		t.Columns[k].Key = true
	}
	ti.table = t
	return ti, nil
}

// fromTracker fills names (and whatever MINIMAL metadata lacks) from the
// schema tracker's definition of the table.
func (env *tableEnv) fromTracker(schema, name string, metas []colMeta, noSign bool, t *cdc.Table) (uint64, error) {
	if env.tracker == nil {
		return 0, fmt.Errorf("table %s.%s: the binlog carries no column names (binlog_row_metadata=MINIMAL); set binlog_row_metadata=FULL on the source", schema, name)
	}
	def, gen := env.tracker.lookup(schema, name)
	if def == nil {
		return 0, fmt.Errorf("table %s.%s: the binlog carries no column names and the table's definition is unknown; set binlog_row_metadata=FULL on the source", schema, name)
	}
	if len(def.columns) != len(metas) {
		return 0, fmt.Errorf("table %s.%s: the binlog has %d columns but the tracked definition has %d; set binlog_row_metadata=FULL on the source", schema, name, len(metas), len(def.columns))
	}
	for i := range metas {
		dc := &def.columns[i]
		m := &metas[i]
		m.name = dc.name
		if noSign {
			m.unsigned = dc.unsigned
		}
		if m.charset == "" {
			m.charset = dc.charset
		}
		if m.charset == "" && isCharType(m) {
			m.charset = "utf8mb4"
		}
		m.elems = dc.elems
		if !m.hasGeom && dc.geometry != "" {
			for g, gn := range geometryNames {
				if gn == dc.geometry {
					m.geometry, m.hasGeom = uint64(g), true
				}
			}
		}
	}
	t.PK = append(t.PK, def.pk...)
	return gen, nil
}

// isCharType reports whether a column's values carry a character set.
func isCharType(m *colMeta) bool {
	switch m.typ {
	case 15, 253, 254, 252: // VARCHAR, VAR_STRING, STRING (CHAR/ENUM/SET), BLOB
		return true
	}
	return false
}

// decodeElems converts ENUM/SET member names to UTF-8.
func decodeElems(elems []string, cs string) []string {
	codec := codecFor(cs)
	if codec.kind == codecUTF8 || codec.kind == codecBinary {
		return elems
	}
	out := make([]string, len(elems))
	var arena slab
	for i, e := range elems {
		out[i] = string(codec.decode([]byte(e), &arena))
	}
	return out
}
