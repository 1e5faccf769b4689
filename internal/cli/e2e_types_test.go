package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestIntegrationAllTypesAndDDL writes every MySQL type and a series of
// schema changes to the real MariaDB, starts a fresh task from a position
// before all of it, and compares the Canal JSON in Kafka with a golden file:
// every row must come out with the column names and types in effect when it
// was written.
func TestIntegrationAllTypesAndDDL(t *testing.T) {
	db := testkit.MariaDB(t)
	brokers := testkit.KafkaBrokers(t)
	bin, err := buildDTS()
	if err != nil {
		t.Fatal(err)
	}
	database := db.TempDatabase("types")
	st := db.Query("SHOW MASTER STATUS")
	file, _ := st.GetString(0, 0)
	pos, _ := st.GetInt(0, 1)
	db.Exec("SET SESSION sql_mode = ''", "SET SESSION time_zone = '+00:00'", "USE "+database,
		`CREATE TABLE all_types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  dec65 DECIMAL(65,30), dec10 DECIMAL(10,2), f FLOAT, d DOUBLE, b1 BIT(1), b64 BIT(64),
  dt DATE, tm TIME(6), dtm DATETIME(3), ts TIMESTAMP(6) NULL, y YEAR,
  c CHAR(10), vc VARCHAR(64), tx TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(16), bl BLOB, e ENUM('small','large'), st SET('a','b','c'),
  j JSON, g POINT, n VARCHAR(10) NULL
) DEFAULT CHARSET=utf8mb4`,
		`INSERT INTO all_types VALUES (1,
  -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
  '-99999999999999999999999999999999999.999999999999999999999999999999', -12.5, 3.14, -1.7976931348623157e308, b'1', b'1111111111111111111111111111111111111111111111111111111111111111',
  '2024-02-29', '-838:59:59', '2024-05-01 10:00:00.12', '2024-05-01 10:00:00.123456', 2024,
  'fixed', 'emoji 😀 "q" \\ new\nline', 'long text', 'café',
  x'00ff', x'deadbeef', x'00', 'large', 'a,c',
  '{"a": [1, 2.5, "x"], "b": null}', ST_GeomFromText('POINT(1 2)'), NULL)`,
		`INSERT INTO all_types (id, dt, dtm, ts, y, e, st) VALUES (2, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '', '')`,
		`INSERT INTO all_types (id) VALUES (3)`,
		`UPDATE all_types SET vc = 'changed', n = 'set' WHERE id = 1`,
		`DELETE FROM all_types WHERE id = 3`,
		`CREATE TABLE evolve (id INT PRIMARY KEY, a VARCHAR(10))`,
		`INSERT INTO evolve VALUES (1, 'v1')`,
		`ALTER TABLE evolve ADD COLUMN b INT DEFAULT 7`,
		`INSERT INTO evolve VALUES (2, 'v2', 8)`,
		`ALTER TABLE evolve DROP COLUMN a`,
		`INSERT INTO evolve VALUES (3, 9)`,
		`ALTER TABLE evolve MODIFY b BIGINT UNSIGNED`,
		`INSERT INTO evolve VALUES (4, 18446744073709551615)`,
		`ALTER TABLE evolve CHANGE b c VARCHAR(30)`,
		`INSERT INTO evolve VALUES (5, 'renamed column')`,
		`CREATE TABLE the_end (id INT PRIMARY KEY)`,
		`INSERT INTO the_end VALUES (1)`,
	)
	topic := "types_" + testkit.RandomSuffix()
	dir := t.TempDir()
	taskFile := e2eTask(t, dir, db, database, topic, brokers,
		fmt.Sprintf("start:\n  from: position\n  position: %s:%d\nsource_time_zone_placeholder: x\n", file, pos))
	// The task reads TIMESTAMP in UTC so the golden file is zone-independent.
	spec, _ := os.ReadFile(taskFile)
	spec = bytes.Replace(spec, []byte("source_time_zone_placeholder: x\n"), nil, 1)
	spec = bytes.Replace(spec, []byte("  password: "+db.Password+"\n"), []byte("  password: "+db.Password+"\n  time_zone: UTC\n"), 1)
	spec = bytes.Replace(spec, []byte("partitioning: primary_key"), []byte("partitioning: partition0"), 1)
	if err := os.WriteFile(taskFile, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd := startDTS(t, bin, taskFile, logs)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var msgs []string
	err = testkit.Stream(ctx, brokers, topic, func(r *kgo.Record) bool {
		msgs = append(msgs, normalize(t, r.Value, database))
		return strings.Contains(string(r.Value), `"table":"the_end","ts"`) && strings.Contains(string(r.Value), `"INSERT"`)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		t.Fatalf("consume: %v; dts log:\n%s", err, tail(logs.String(), 30))
	}
	// Every type as SELECT shows it equals what the topic holds. The rows
	// of evolve written before ADD/CHANGE COLUMN have no image with the
	// new column (DDL fills it without row events), which verify reports.
	out, err := exec.Command(bin, "verify", "-f", taskFile).CombinedOutput()
	if exitCode(err) != 1 || !regexp.MustCompile(`all_types\s+2\s+2\s+0\s+0\s+0`).Match(out) ||
		!regexp.MustCompile(`evolve\s+5\s+5\s+0\s+0\s+4`).Match(out) || !strings.Contains(string(out), `key 1 column c: source "7", topic NULL`) {
		t.Errorf("dts verify: %v\n%s", err, out)
	}
	got := strings.Join(msgs, "\n") + "\n"
	path := filepath.Join("testdata", "all-types-ddl.golden")
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("Canal JSON differs from %s (run with -update to accept):\n%s", path, lineDiff(string(want), got))
	}
}

var volatile = regexp.MustCompile(`"es":\d+,"id":\d+,|"ts":\d+,"type"`)

// normalize removes what differs between runs: the database's random
// suffix, times and message ids. Top-level key order is kept.
func normalize(t *testing.T, v []byte, database string) string {
	t.Helper()
	if !json.Valid(v) {
		t.Fatalf("not JSON: %s", v)
	}
	s := volatile.ReplaceAllStringFunc(string(v), func(m string) string {
		if strings.HasPrefix(m, `"es"`) {
			return `"es":0,"id":0,`
		}
		return `"ts":0,"type"`
	})
	return strings.ReplaceAll(s, database, "DB")
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d\n want: %s\n  got: %s\n", i+1, wl, gl)
		}
	}
	return b.String()
}
