package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/testkit"
)

// buildDTS compiles the dts binary once per test binary run.
var buildDTS = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dts-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dts")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/opendts/opendts/cmd/dts").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// e2eTask writes a task file for database db into dir and returns its path.
func e2eTask(t *testing.T, dir string, db *testkit.DB, database, topic string, brokers []string, extra string) string {
	t.Helper()
	spec := fmt.Sprintf(`name: %s
source:
  host: %s
  port: %d
  user: %s
  password: %s
destination:
  brokers: [%q]
  topic: %s
  partitioning: primary_key
  create_topics: true
  partitions: 3
objects:
  databases: [%s]
checkpoint:
  dir: %s
  interval: 200ms
%s`, topic, db.Host, db.Port, db.User, db.Password, brokers[0], topic, database, filepath.Join(dir, "state"), extra)
	path := filepath.Join(dir, "task.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startDTS(t *testing.T, bin, taskFile string, logw *lockedBuffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "run", "-f", taskFile, "-log-level", "debug")
	cmd.Stdout, cmd.Stderr = logw, logw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// canal is the part of a Canal JSON message the e2e tests read.
type canal struct {
	Data     []map[string]*string `json:"data"`
	Database string               `json:"database"`
	Table    string               `json:"table"`
	Type     string               `json:"type"`
	IsDDL    bool                 `json:"isDdl"`
}

type change struct {
	op string // INSERT, UPDATE, DELETE
	id int
	v  int64 // value of v after the change (before it, for DELETE)
}

// TestIntegrationCrashRecovery kills dts with SIGKILL at random points while
// 100k changes stream through, restarts it until it has caught up, and
// checks that every change reached Kafka at least once and that the last
// message per primary key matches the source's final row.
func TestIntegrationCrashRecovery(t *testing.T) {
	db := testkit.MariaDB(t)
	brokers := testkit.KafkaBrokers(t)
	bin, err := buildDTS()
	if err != nil {
		t.Fatal(err)
	}
	database := db.TempDatabase("crash")
	db.Exec("CREATE TABLE " + database + ".t (id INT PRIMARY KEY, v BIGINT NOT NULL, pad VARCHAR(64))")
	topic := "crash_" + testkit.RandomSuffix()
	dir := t.TempDir()
	// A fixed start position, taken before any change, so that even a kill
	// before the first checkpoint cannot skip changes.
	st := db.Query("SHOW MASTER STATUS")
	file, _ := st.GetString(0, 0)
	pos, _ := st.GetInt(0, 1)
	taskFile := e2eTask(t, dir, db, database, topic, brokers,
		fmt.Sprintf("start:\n  from: position\n  position: %s:%d\n", file, pos))

	const total = 100_000
	var changes []change
	writerDone := make(chan error, 1)
	go func() { writerDone <- writeChanges(db, database, total, &changes) }()

	logs := &lockedBuffer{}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	kills := 0
	for writing := true; writing || kills < 6; {
		cmd := startDTS(t, bin, taskFile, logs)
		time.Sleep(time.Duration(150+rng.IntN(1000)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		select {
		case err := <-writerDone:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			writing = false
		default:
		}
		if kills > 60 {
			t.Fatal("writer did not finish")
		}
	}
	// Final run: let it catch up, then stop it cleanly.
	cmd := startDTS(t, bin, taskFile, logs)
	final := changes[len(changes)-1]
	recs := readCanalUntil(t, brokers, topic, 3*time.Minute, func(m canal) bool {
		c, ok := toChange(m)
		return ok && c == final
	})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("dts run after SIGTERM: %v (want exit 0)", err)
	}
	if t.Failed() || !containsChange(recs, final) {
		t.Fatalf("the last change never reached Kafka after %d kills; log tail:\n%s", kills, tail(logs.String(), 40))
	}
	// The final change may have been read before other partitions were;
	// now that dts has stopped, read every partition to its end.
	recs = nil
	for _, r := range testkit.ConsumeAll(t, brokers, topic) {
		var m canal
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("message at %s[%d]@%d is not JSON: %v", r.Topic, r.Partition, r.Offset, err)
		}
		recs = append(recs, m)
	}
	t.Logf("%d changes, %d kills, %d messages (%.1f%% duplicates)", len(changes), kills, len(recs),
		100*float64(len(recs)-len(changes))/float64(len(changes)))

	// Every change at least once.
	seen := map[change]bool{}
	for _, r := range recs {
		if c, ok := toChange(r); ok {
			seen[c] = true
		}
	}
	missing := 0
	for _, c := range changes {
		if !seen[c] {
			if missing < 10 {
				t.Errorf("change %+v is not in Kafka", c)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d changes missing", missing, len(changes))
	}

	// Last message per key equals the source's final row. Messages of one
	// key share a partition, and readCanal keeps partition order.
	last := map[int]change{}
	for _, r := range recs {
		if c, ok := toChange(r); ok {
			last[c.id] = c
		}
	}
	final2 := map[int]int64{}
	res := db.Query("SELECT id, v FROM " + database + ".t")
	for i := range res.RowNumber() {
		id, _ := res.GetInt(i, 0)
		v, _ := res.GetInt(i, 1)
		final2[int(id)] = v
	}
	for id, c := range last {
		v, exists := final2[id]
		switch {
		case c.op == "DELETE" && exists:
			t.Errorf("id %d: last message is a DELETE but the row exists with v=%d", id, v)
		case c.op != "DELETE" && !exists:
			t.Errorf("id %d: last message is %s v=%d but the row is gone", id, c.op, c.v)
		case c.op != "DELETE" && v != c.v:
			t.Errorf("id %d: last message has v=%d, source has v=%d", id, c.v, v)
		}
	}
	for id := range final2 {
		if _, ok := last[id]; !ok {
			t.Errorf("id %d exists in the source but has no message", id)
		}
	}

	// dts verify agrees, and catches a row changed behind its back.
	out, err := exec.Command(bin, "verify", "-f", taskFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "topic and source match") {
		t.Fatalf("dts verify: %v\n%s", err, out)
	}
	db.Exec("UPDATE " + database + ".t SET pad = 'tampered' ORDER BY id LIMIT 1")
	out, err = exec.Command(bin, "verify", "-f", taskFile).CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "column pad") {
		t.Fatalf("dts verify after tampering: exit %d, want 1 naming column pad\n%s", code, out)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// writeChanges performs n changes in transactions of up to 50, recording each.
func writeChanges(db *testkit.DB, database string, n int, out *[]change) error {
	conn, err := db.Connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Execute("USE " + database); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(2, 3))
	live := map[int]int64{}
	var ids []int
	next := 1
	var seq int64
	for len(*out) < n {
		var sql strings.Builder
		sql.WriteString("BEGIN;")
		size := 1 + rng.IntN(50)
		var batch []change
		for range size {
			seq++
			switch r := rng.IntN(10); {
			case r < 5 || len(ids) < 100:
				id := next
				next++
				fmt.Fprintf(&sql, "INSERT INTO t VALUES (%d, %d, 'x%d');", id, seq, seq)
				live[id] = seq
				ids = append(ids, id)
				batch = append(batch, change{"INSERT", id, seq})
			case r < 9:
				id := ids[rng.IntN(len(ids))]
				fmt.Fprintf(&sql, "UPDATE t SET v = %d WHERE id = %d;", seq, id)
				live[id] = seq
				batch = append(batch, change{"UPDATE", id, seq})
			default:
				i := rng.IntN(len(ids))
				id := ids[i]
				fmt.Fprintf(&sql, "DELETE FROM t WHERE id = %d;", id)
				batch = append(batch, change{"DELETE", id, live[id]})
				delete(live, id)
				ids[i] = ids[len(ids)-1]
				ids = ids[:len(ids)-1]
			}
		}
		sql.WriteString("COMMIT")
		for _, stmt := range strings.Split(sql.String(), ";") {
			if _, err := conn.Execute(stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		*out = append(*out, batch...)
	}
	return nil
}

// readCanalUntil consumes topic from the start until stop returns true for a
// message or the timeout passes, keeping per-partition order.
func readCanalUntil(t *testing.T, brokers []string, topic string, timeout time.Duration, stop func(canal) bool) []canal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out []canal
	err := testkit.Stream(ctx, brokers, topic, func(r *kgo.Record) bool {
		var m canal
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatalf("message at %s[%d]@%d is not JSON: %v: %s", r.Topic, r.Partition, r.Offset, err, r.Value)
		}
		out = append(out, m)
		return stop(m)
	})
	if err != nil && ctx.Err() == nil {
		t.Fatalf("consume %s: %v", topic, err)
	}
	return out
}

func toChange(m canal) (change, bool) {
	if m.IsDDL || len(m.Data) != 1 {
		return change{}, false
	}
	row := m.Data[0]
	if row["id"] == nil || row["v"] == nil {
		return change{}, false
	}
	id, err1 := strconv.Atoi(*row["id"])
	v, err2 := strconv.ParseInt(*row["v"], 10, 64)
	if err1 != nil || err2 != nil {
		return change{}, false
	}
	return change{m.Type, id, v}, true
}

func containsChange(recs []canal, c change) bool {
	for i := len(recs) - 1; i >= 0; i-- {
		if got, ok := toChange(recs[i]); ok && got == c {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
