package binlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/secret"
	"github.com/opendts/opendts/internal/testkit"
)

// testConfig is a reader configuration for the test server.
func testConfig(db *testkit.DB, include func(schema, table string) bool) Config {
	return Config{Host: db.Host, Port: db.Port, User: db.User, Password: secret.New(db.Password),
		Name: "binlogtest-" + testkit.RandomSuffix(), Include: include}
}

// onlyDB includes the tables of one database.
func onlyDB(name string) func(string, string) bool {
	return func(schema, _ string) bool { return schema == name }
}

// testLog logs to the test at debug level.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func resolve(t *testing.T, cfg Config, mode, value string) cdc.Position {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := ResolveStart(ctx, cfg, mode, value)
	if err != nil {
		t.Fatalf("ResolveStart(%s, %q): %v", mode, value, err)
	}
	return p
}

func open(t *testing.T, cfg Config, start cdc.Position) *Reader {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := Open(ctx, cfg, start, testLog(t))
	if err != nil {
		t.Fatalf("Open at %s: %v", start, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readCommits reads events until n Commit events of transactions touching
// database name have been read (transactions of other databases are
// dropped) and returns the kept events.
func readCommits(t *testing.T, r *Reader, name string, n int) []*cdc.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, tx []*cdc.Event
	for n > 0 {
		ev, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d events: %v", len(out), err)
		}
		tx = append(tx, ev)
		if ev.Op != cdc.Commit {
			continue
		}
		mine := false
		for _, e := range tx {
			mine = mine || e.Schema() == name
		}
		if mine {
			out = append(out, tx...)
			n--
		}
		tx = nil
	}
	return out
}

func rowsOf(evs []*cdc.Event, op cdc.Op) []*cdc.Event {
	var out []*cdc.Event
	for _, e := range evs {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

// selectText returns the rows of a query as text (nil for NULL), as the
// text protocol delivers them.
func selectText(t *testing.T, db *testkit.DB, q string) [][][]byte {
	t.Helper()
	r := db.Query(q)
	var out [][][]byte
	for i := range r.Values {
		row := make([][]byte, len(r.Values[i]))
		for j := range row {
			v := r.Values[i][j]
			if v.Value() != nil {
				row[j] = append([]byte{}, v.AsString()...)
			}
		}
		out = append(out, row)
	}
	return out
}

const allTypesDDL = `CREATE TABLE %s.all_types (
  id int NOT NULL PRIMARY KEY,
  ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
  mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
  d65 decimal(65,30), d102 decimal(10,2), du decimal(5,0) unsigned,
  f float, db double,
  b1 bit(1), b64 bit(64),
  dt date, tm time(6), dtm datetime(3), ts timestamp(6) NULL DEFAULT NULL, ts0 timestamp NULL DEFAULT NULL, yr year,
  c10 char(10) CHARACTER SET utf8mb4, vc varchar(32) CHARACTER SET utf8mb4, tx text CHARACTER SET utf8mb4,
  cl char(5) CHARACTER SET latin1, vl varchar(10) CHARACTER SET latin1,
  bin4 binary(4), vb varbinary(8), bl blob,
  en enum('a','b','c'), st set('x','y','z'),
  js json, g point
)`

// selectAllTypes renders every column as the text protocol would print it:
// numbers through CONCAT (so the client keeps the server's text) and BIT
// as its number.
const selectAllTypes = `SELECT CONCAT(id), CONCAT(ti), CONCAT(tiu), CONCAT(si), CONCAT(siu), CONCAT(mi), CONCAT(miu),
  CONCAT(i), CONCAT(iu), CONCAT(bi), CONCAT(biu), d65, d102, du, CONCAT(f), CONCAT(db), CONCAT(b1+0), CONCAT(b64+0),
  dt, tm, dtm, ts, ts0, CONCAT(yr), c10, vc, tx, cl, vl, bin4, vb, bl, en, st, js, g
  FROM %s.all_types ORDER BY id`

func TestIntegrationAllTypes(t *testing.T) {
	t.Run("full metadata", func(t *testing.T) { testAllTypes(t, false) })
	t.Run("schema tracker", func(t *testing.T) { testAllTypes(t, true) })
}

// testAllTypes decodes one row per extreme of every type and compares each
// value with the expected one and with what SELECT returns.
func testAllTypes(t *testing.T, minimal bool) {
	db := testkit.MariaDB(t)
	name := db.TempDatabase("binlogtest")
	zone := time.FixedZone("+08:00", 8*3600)
	cfg := testConfig(db, onlyDB(name))
	cfg.TimeZone = zone
	db.Exec("SET SESSION sql_mode = ''", "SET SESSION time_zone = '+08:00'", fmt.Sprintf(allTypesDDL, name))
	start := resolve(t, cfg, StartCurrent, "")
	long := strings.Repeat("0123456789abcdéf😀", 200)
	db.Exec(
		fmt.Sprintf(`INSERT INTO %s.all_types VALUES (1,
			127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615,
			99999999999999999999999999999999999.999999999999999999999999999999, 12345678.90, 99999,
			3.14, 2.718281828459045, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
			'9999-12-31', '838:59:59', '9999-12-31 23:59:59.999', '2038-01-19 03:14:07.999999', '2024-05-01 10:00:00', 2155,
			'héllo😀', 'emoji 😀 ok', '%s', 'é€ab', 'café',
			'ab', x'00ff', x'000102ff', 'c', 'x,z', '{"k": [1, "two", null, 2.5]}', ST_GeomFromText('POINT(1 2)'))`, name, long),
		fmt.Sprintf(`INSERT INTO %s.all_types VALUES (2,
			-128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
			-99999999999999999999999999999999999.999999999999999999999999999999, -0.5, 0,
			-1.5, -0.1, b'0', b'0',
			'1000-01-01', '-838:59:59', '1000-01-01 00:00:00', '1970-01-01 08:00:01', '1970-01-01 08:00:01', 1901,
			'', '', '', '', '',
			x'00000000', '', '', 'a', '', '[]', ST_GeomFromText('POINT(0 0)'))`, name),
		fmt.Sprintf(`INSERT INTO %s.all_types (id, dt, tm, dtm, ts, ts0, yr, c10, d102, f, db)
			VALUES (3, '0000-00-00', '-00:00:00.5', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0,
			'ab  ', 0.01, 0, 0)`, name),
		fmt.Sprintf(`INSERT INTO %s.all_types (id) VALUES (4)`, name),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := openReader(ctx, cfg, start, testLog(t), minimal)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	inserts := rowsOf(readCommits(t, r, name, 4), cdc.Insert)
	if len(inserts) != 4 {
		t.Fatalf("got %d inserts, want 4", len(inserts))
	}
	tbl := inserts[0].Table
	for _, ev := range inserts[1:] {
		if ev.Table != tbl {
			t.Errorf("rows of one table version have different *cdc.Table pointers")
		}
	}

	txt, num := cdc.StringValue, cdc.IntValue
	u := cdc.UintValue
	ts := func(s string, micros int64) cdc.Value { v := txt(s); v.Int = micros; return v }
	null := cdc.NullValue
	f32 := func(f float32) cdc.Value { return cdc.FloatValue(float64(f)) }
	want := map[int]map[string]cdc.Value{
		1: {"id": num(1), "ti": num(127), "tiu": u(255), "si": num(32767), "siu": u(65535), "mi": num(8388607),
			"miu": u(16777215), "i": num(2147483647), "iu": u(4294967295), "bi": num(9223372036854775807),
			"biu": u(18446744073709551615),
			"d65": txt("99999999999999999999999999999999999.999999999999999999999999999999"), "d102": txt("12345678.90"),
			"du": txt("99999"), "f": f32(3.14), "db": cdc.FloatValue(2.718281828459045), "b1": u(1), "b64": u(1<<64 - 1),
			"dt": txt("9999-12-31"), "tm": txt("838:59:59.000000"), "dtm": txt("9999-12-31 23:59:59.999"),
			"ts": ts("2038-01-19 03:14:07.999999", 2147454847999999), "ts0": ts("2024-05-01 10:00:00", 1714528800000000),
			"yr": num(2155), "c10": txt("héllo😀"), "vc": txt("emoji 😀 ok"), "tx": txt(long), "cl": txt("é€ab"),
			"vl": txt("café"), "bin4": cdc.BytesValue([]byte("ab\x00\x00")), "vb": cdc.BytesValue([]byte{0, 0xff}),
			"bl": cdc.BytesValue([]byte{0, 1, 2, 0xff}), "en": u(3), "st": u(5), "js": txt(`{"k": [1, "two", null, 2.5]}`),
			"g": cdc.BytesValue([]byte("\x00\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40"))},
		2: {"ti": num(-128), "tiu": u(0), "si": num(-32768), "mi": num(-8388608), "i": num(-2147483648),
			"bi": num(-9223372036854775808), "biu": u(0),
			"d65": txt("-99999999999999999999999999999999999.999999999999999999999999999999"), "d102": txt("-0.50"),
			"du": txt("0"), "f": f32(-1.5), "db": cdc.FloatValue(-0.1), "b1": u(0), "b64": u(0),
			"dt": txt("1000-01-01"), "tm": txt("-838:59:59.000000"), "dtm": txt("1000-01-01 00:00:00.000"),
			"ts": ts("1970-01-01 08:00:01.000000", 1000000), "yr": num(1901), "c10": txt(""), "tx": txt(""),
			"bin4": cdc.BytesValue([]byte{0, 0, 0, 0}), "vb": cdc.BytesValue([]byte{}), "en": u(1), "st": u(0), "js": txt("[]")},
		3: {"dt": txt("0000-00-00"), "tm": txt("-00:00:00.500000"), "dtm": txt("0000-00-00 00:00:00.000"),
			"ts": ts("0000-00-00 00:00:00.000000", 0), "ts0": ts("0000-00-00 00:00:00", 0), "yr": num(0),
			"c10": txt("ab"), "d102": txt("0.01"), "f": f32(0), "db": cdc.FloatValue(0), "ti": null, "js": null, "g": null},
		4: {"ti": null, "tiu": null, "d65": null, "f": null, "b64": null, "dt": null, "ts": null, "yr": null,
			"c10": null, "bin4": null, "en": null, "st": null, "js": null, "g": null},
	}
	for _, ev := range inserts {
		id := int(ev.After[0].Int)
		for col, w := range want[id] {
			i := tbl.ColumnIndex(col)
			if i < 0 {
				t.Fatalf("no column %s", col)
			}
			if got := ev.After[i]; !got.Equal(w) || got.Int != w.Int {
				t.Errorf("row %d %s: got %+v (%q), want %+v (%q)", id, col, got, got.Bytes, w, w.Bytes)
			}
		}
	}

	// The binlog must agree with what a plain SELECT returns.
	rows := selectText(t, db, fmt.Sprintf(selectAllTypes, name))
	for n, ev := range inserts {
		for i := range tbl.Columns {
			c := &tbl.Columns[i]
			v, sel := ev.After[i], rows[n][i]
			if v.IsNull() != (sel == nil) {
				t.Errorf("row %d %s: binlog null=%v, select %q", n+1, c.Name, v.IsNull(), sel)
				continue
			}
			if v.IsNull() {
				continue
			}
			got := v.AppendText(nil, c)
			if c.Type == cdc.Year && v.Int == 0 {
				got = []byte("0000") // cdc renders YEAR 0 as "0"; MySQL prints "0000"
			}
			if !bytes.Equal(got, sel) {
				t.Errorf("row %d %s (%s): binlog %q, select %q", n+1, c.Name, c.ColumnType, got, sel)
			}
		}
	}

	// Column types as reconstructed from the TABLE_MAP.
	wantTypes := map[string]string{"id": "int(11)", "tiu": "tinyint(3) unsigned", "biu": "bigint(20) unsigned",
		"d65": "decimal(65,30)", "du": "decimal(5,0) unsigned", "f": "float", "b64": "bit(64)", "tm": "time(6)",
		"dtm": "datetime(3)", "ts": "timestamp(6)", "ts0": "timestamp", "yr": "year(4)", "c10": "char(10)",
		"vc": "varchar(32)", "tx": "text", "cl": "char(5)", "bin4": "binary(4)", "vb": "varbinary(8)", "bl": "blob",
		"en": "enum('a','b','c')", "st": "set('x','y','z')", "js": "longtext", "g": "point"}
	for col, w := range wantTypes {
		if got := tbl.Columns[tbl.ColumnIndex(col)].ColumnType; got != w {
			t.Errorf("column %s: type %q, want %q", col, got, w)
		}
	}
	if c := tbl.Columns[tbl.ColumnIndex("cl")]; c.Charset != "latin1" || c.Length != 5 {
		t.Errorf("column cl: charset %q length %d, want latin1 5", c.Charset, c.Length)
	}
	if c := tbl.Columns[0]; !c.Key || c.Nullable || len(tbl.PK) != 1 || tbl.PK[0] != 0 {
		t.Errorf("primary key: column %+v, PK %v", c, tbl.PK)
	}
	if !tbl.Columns[1].Nullable {
		t.Errorf("column ti should be nullable")
	}
}

func TestIntegrationDDL(t *testing.T) {
	t.Run("full metadata", func(t *testing.T) { testDDL(t, false) })
	t.Run("schema tracker", func(t *testing.T) { testDDL(t, true) })
}

// testDDL changes tables between inserts and checks that every row is
// decoded with the definition in effect when it was written. With minimal,
// the TABLE_MAP metadata is ignored and names come from the schema tracker.
func testDDL(t *testing.T, minimal bool) {
	db := testkit.MariaDB(t)
	name := db.TempDatabase("binlogtest")
	cfg := testConfig(db, onlyDB(name))
	db.Exec(fmt.Sprintf("CREATE TABLE %s.t (id int PRIMARY KEY, a varchar(10), b int)", name))
	start := resolve(t, cfg, StartCurrent, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := openReader(ctx, cfg, start, testLog(t), minimal)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	db.Exec(
		fmt.Sprintf("INSERT INTO %s.t VALUES (1, 'one', 10)", name),
		fmt.Sprintf("ALTER TABLE %s.t ADD COLUMN c datetime(3) AFTER a", name),
		fmt.Sprintf("INSERT INTO %s.t VALUES (2, 'two', '2024-01-02 03:04:05.678', 20)", name),
		fmt.Sprintf("ALTER TABLE %s.t DROP COLUMN b", name),
		fmt.Sprintf("INSERT INTO %s.t VALUES (3, 'three', NULL)", name),
		fmt.Sprintf("ALTER TABLE %s.t MODIFY a varchar(40) CHARACTER SET latin1", name),
		fmt.Sprintf("INSERT INTO %s.t VALUES (4, 'quatre é', '2024-01-01')", name),
		fmt.Sprintf("CREATE TABLE %s.u (k bigint unsigned PRIMARY KEY)", name),
		fmt.Sprintf("RENAME TABLE %s.u TO %s.v", name, name),
		fmt.Sprintf("INSERT INTO %s.v VALUES (18446744073709551615)", name),
		fmt.Sprintf("DROP TABLE %s.v", name),
	)
	evs := readCommits(t, r, name, 11)
	var got []string
	for _, ev := range evs {
		switch ev.Op {
		case cdc.Insert:
			var cols []string
			for i, c := range ev.Table.Columns {
				cols = append(cols, fmt.Sprintf("%s=%s", c.Name, ev.After[i].AppendText(nil, &c)))
			}
			got = append(got, fmt.Sprintf("INSERT %s v%d %s", ev.Table.Name, ev.Table.Version, strings.Join(cols, " ")))
		case cdc.DDL:
			tbl := ""
			if ev.Table != nil {
				tbl = ev.Table.Name
			}
			got = append(got, fmt.Sprintf("DDL %s.%s %.30s", ev.Database, tbl, ev.DDL))
		}
	}
	ddl := func(table, stmt string) string { return fmt.Sprintf("DDL %s.%s %.30s", name, table, stmt) }
	n := name
	want := []string{
		"INSERT t v1 id=1 a=one b=10",
		ddl("t", "ALTER TABLE "+n+".t ADD COLUMN c datetime(3) AFTER a"),
		"INSERT t v2 id=2 a=two c=2024-01-02 03:04:05.678 b=20",
		ddl("t", "ALTER TABLE "+n+".t DROP COLUMN b"),
		"INSERT t v3 id=3 a=three c=",
		ddl("t", "ALTER TABLE "+n+".t MODIFY a varchar(40) CHARACTER SET latin1"),
		"INSERT t v4 id=4 a=quatre é c=2024-01-01 00:00:00.000",
		ddl("u", "CREATE TABLE "+n+".u (k bigint unsigned PRIMARY KEY)"),
		ddl("u", "RENAME TABLE "+n+".u TO "+n+".v"),
		"INSERT v v1 k=18446744073709551615",
		ddl("v", "DROP TABLE `"+n+"`.`v` /* generated by server */"),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, ev := range rowsOf(evs, cdc.Insert) {
		if ev.Table.Name == "t" && ev.Table.Version == 4 {
			if c := ev.Table.Columns[1]; c.Charset != "latin1" || c.ColumnType != "varchar(40)" {
				t.Errorf("modified column: %+v", c)
			}
			if len(ev.Table.PK) != 1 || ev.Table.PK[0] != 0 {
				t.Errorf("primary key %v", ev.Table.PK)
			}
		}
	}
}

// txSummary renders one transaction's events compactly.
func txSummary(evs []*cdc.Event) []string {
	var out, cur []string
	for _, ev := range evs {
		switch ev.Op {
		case cdc.Commit:
			out = append(out, strings.Join(cur, " "))
			cur = nil
		case cdc.DDL:
			cur = append(cur, "DDL")
		default:
			s := ev.Op.String() + ":" + ev.Table.Name
			if ev.Before != nil {
				s += fmt.Sprintf(" %d/%s", ev.Before[0].Int, ev.Before[1].Bytes)
			}
			if ev.After != nil {
				s += fmt.Sprintf(">%d/%s", ev.After[0].Int, ev.After[1].Bytes)
			}
			cur = append(cur, fmt.Sprintf("[%d %s]", ev.TxSeq, s))
		}
	}
	return out
}

func TestIntegrationChangesAndResume(t *testing.T) {
	db := testkit.MariaDB(t)
	name := db.TempDatabase("binlogtest")
	cfg := testConfig(db, onlyDB(name))
	db.Exec(fmt.Sprintf("CREATE TABLE %s.a (id int PRIMARY KEY, v varchar(10))", name),
		fmt.Sprintf("CREATE TABLE %s.b (id int PRIMARY KEY, v varchar(10))", name),
		fmt.Sprintf("CREATE TABLE %s.skipped (id int PRIMARY KEY)", name))
	start := resolve(t, cfg, StartCurrent, "")
	if start.GTIDSet == "" || start.Flavor != cdc.MariaDB {
		t.Fatalf("current position %+v: want a MariaDB GTID position", start)
	}
	cfg.Include = func(schema, table string) bool { return schema == name && table != "skipped" }
	db.Exec(
		fmt.Sprintf("INSERT INTO %s.a VALUES (1, 'x'), (2, 'y'), (3, 'z')", name),
		fmt.Sprintf("UPDATE %s.a SET v = CONCAT(v, v) WHERE id <= 2", name),
		fmt.Sprintf("DELETE FROM %s.a WHERE id = 3", name),
		"BEGIN",
		fmt.Sprintf("INSERT INTO %s.a VALUES (4, 'p')", name),
		fmt.Sprintf("INSERT INTO %s.skipped VALUES (1)", name),
		fmt.Sprintf("INSERT INTO %s.b VALUES (1, 'q'), (2, 'r')", name),
		fmt.Sprintf("UPDATE %s.b SET v = 's' WHERE id = 2", name),
		"COMMIT",
		fmt.Sprintf("INSERT INTO %s.b VALUES (3, 't')", name),
	)
	evs := readCommits(t, open(t, cfg, start), name, 5)
	got := txSummary(evs)
	want := []string{
		"[0 INSERT:a>1/x] [1 INSERT:a>2/y] [2 INSERT:a>3/z]",
		"[0 UPDATE:a 1/x>1/xx] [1 UPDATE:a 2/y>2/yy]",
		"[0 DELETE:a 3/z]",
		"[0 INSERT:a>4/p] [1 INSERT:b>1/q] [2 INSERT:b>2/r] [3 UPDATE:b 2/r>2/s]",
		"[0 INSERT:b>3/t]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("transactions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var commits []cdc.Position
	var gtids []string
	for _, ev := range evs {
		if ev.Op != cdc.Commit {
			if ev.Pos.GTID == "" || ev.Pos.File == "" || ev.Pos.Offset == 0 {
				t.Errorf("row event position %+v lacks file, offset or GTID", ev.Pos)
			}
			continue
		}
		commits = append(commits, ev.Pos)
		gtids = append(gtids, ev.Pos.GTID)
		if ev.Pos.GTIDSet == "" || !strings.Contains(ev.Pos.GTIDSet, ev.Pos.GTID) {
			t.Errorf("commit position %+v: GTID set should include the transaction", ev.Pos)
		}
		if ev.Commit.IsZero() || ev.ServerID == 0 {
			t.Errorf("commit event lacks time or server id: %+v", ev)
		}
	}
	// Resuming from each commit yields exactly the transactions after it,
	// by GTID and by file/offset.
	for i := 0; i < len(commits)-1; i++ {
		for _, mode := range []string{"gtid", "file"} {
			pos := commits[i]
			if mode == "file" {
				pos.GTIDSet = ""
			}
			evs := readCommits(t, open(t, cfg, pos), name, len(want)-i-1)
			if got := txSummary(evs); strings.Join(got, "\n") != strings.Join(want[i+1:], "\n") {
				t.Errorf("resume by %s from commit %d (%s): got\n%s\nwant\n%s", mode, i, pos, strings.Join(got, "\n"),
					strings.Join(want[i+1:], "\n"))
			}
			last := rowsOf(evs, cdc.Commit)
			if p := last[len(last)-1].Pos; p.GTID != gtids[len(gtids)-1] || p != commits[len(commits)-1] {
				t.Errorf("resume by %s: last commit at %+v, want %+v", mode, p, commits[len(commits)-1])
			}
		}
	}
}

func TestIntegrationPurged(t *testing.T) {
	db := testkit.MariaDB(t)
	cfg := testConfig(db, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cur := resolve(t, cfg, StartCurrent, "")
	gone := cdc.Position{Flavor: cur.Flavor, File: "mariadb-bin.000000", Offset: 4}
	if _, err := Open(ctx, cfg, gone, testLog(t)); !errors.Is(err, ErrPurged) {
		t.Errorf("Open at %s: %v, want ErrPurged", gone, err)
	}
	if _, err := ResolveStart(ctx, cfg, StartPosition, "mariadb-bin.000000:4"); !errors.Is(err, ErrPurged) {
		t.Errorf("ResolveStart at a purged file: %v, want ErrPurged", err)
	}
	early := resolve(t, cfg, StartEarliest, "")
	if early.Offset != 4 || early.File == "" || early.File > cur.File {
		t.Errorf("earliest %+v, current %+v", early, cur)
	}
}

// TestIntegrationReconnect kills the replication connection in the middle
// of a large transaction and checks that no row is lost or repeated.
func TestIntegrationReconnect(t *testing.T) {
	db := testkit.MariaDB(t)
	name := db.TempDatabase("binlogtest")
	cfg := testConfig(db, onlyDB(name))
	db.Exec(fmt.Sprintf("CREATE TABLE %s.t (id int PRIMARY KEY, v text)", name))
	start := resolve(t, cfg, StartCurrent, "")
	// One transaction far larger than what socket buffers and the event
	// queue hold, so that the kill lands inside it.
	const rows = 10000
	db.Exec(fmt.Sprintf("INSERT INTO %s.t SELECT seq, REPEAT('x', 2000) FROM %s.seq_1_to_%d", name, name, rows),
		fmt.Sprintf("INSERT INTO %s.t VALUES (%d, 'last')", name, rows+1))
	r := open(t, cfg, start)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seen := map[int64]int{}
	killed, mine, commits := false, false, 0
	for commits < 2 {
		ev, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		switch ev.Op {
		case cdc.Insert:
			id := ev.After[0].Int
			seen[id]++
			mine = true
			if id <= rows && int64(ev.TxSeq) != id-1 {
				t.Errorf("row %d has TxSeq %d, want %d", id, ev.TxSeq, id-1)
			}
		case cdc.Commit:
			if mine {
				commits++
			}
			mine = false
		}
		if !killed && len(seen) == 100 {
			killed = true
			killDump(t, db, r)
		}
	}
	for i := int64(1); i <= rows+1; i++ {
		if seen[i] != 1 {
			t.Errorf("row %d seen %d times", i, seen[i])
		}
	}
}

// killDump kills the server thread sending the binlog to r.
func killDump(t *testing.T, db *testkit.DB, r *Reader) {
	t.Helper()
	db.Exec(fmt.Sprintf("KILL %d", r.stream.syncer.LastConnectionID()))
}

// TestIntegrationSecrets reads with a least-privileged user and checks that
// its password appears in no log line and no error.
func TestIntegrationSecrets(t *testing.T) {
	db := testkit.MariaDB(t)
	name := db.TempDatabase("binlogtest")
	user, pass := "cdc_"+testkit.RandomSuffix(), "Pw-"+testkit.RandomSuffix()+"-secret"
	db.Exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass),
		fmt.Sprintf("GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT ON *.* TO '%s'@'%%'", user))
	t.Cleanup(func() { db.Exec(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig(db, onlyDB(name))
	cfg.User, cfg.Password = user, secret.New(pass)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start, err := ResolveStart(ctx, cfg, StartCurrent, "")
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(fmt.Sprintf("CREATE TABLE %s.t (id int PRIMARY KEY)", name), fmt.Sprintf("INSERT INTO %s.t VALUES (1)", name))
	r, err := Open(ctx, cfg, start, log)
	if err != nil {
		t.Fatal(err)
	}
	for commits := 0; commits < 2; {
		ev, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Op == cdc.Commit {
			commits++
		}
	}
	r.Close()
	if _, err := r.Next(ctx); err == nil {
		t.Error("Next after Close returned no error")
	}
	bad := cfg
	bad.Password = secret.New(pass + "-wrong")
	_, err = Open(ctx, bad, start, log)
	if err == nil {
		t.Fatal("Open with a wrong password succeeded")
	}
	all := logs.String() + err.Error() + fmt.Sprintf("%v %+v", cfg, cfg)
	if strings.Contains(all, pass) {
		t.Errorf("password leaked:\n%s", all)
	}
	if !strings.Contains(logs.String(), `"binlog_file"`) {
		t.Errorf("no log line with binlog_file:\n%s", logs.String())
	}
}
