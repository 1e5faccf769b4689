// Command bench measures OpenDTS against the real MariaDB and Kafka that
// scripts/infra.sh starts, and prints one table. It is run by `make bench`;
// it is a development tool, not part of the product.
//
// The incremental benchmark writes N inserts, U updates and D deletes to a
// fresh table, then measures (1) the ceiling: reading and parsing the same
// binlog range with go-mysql alone, and (2) end to end: bin/dts streaming the
// range into Kafka, from process start until Kafka has acknowledged every
// message, with the process's peak RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type result struct {
	name   string
	rows   int
	secs   float64
	rssMB  float64
	remark string
}

func main() {
	inserts := flag.Int("inserts", 1_000_000, "rows inserted")
	updates := flag.Int("updates", 200_000, "rows updated")
	deletes := flag.Int("deletes", 100_000, "rows deleted")
	bin := flag.String("dts", "bin/dts", "dts binary")
	flag.Parse()
	if err := run(*bin, *inserts, *updates, *deletes); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(bin string, inserts, updates, deletes int) error {
	host, port := env("MARIADB_HOST", "127.0.0.1"), env("MARIADB_PORT", "3307")
	user, pass := env("MARIADB_USER", "root"), env("MARIADB_PASSWORD", "root")
	brokers := strings.Split(env("KAFKA_BROKERS", "127.0.0.1:9092"), ",")
	conn, err := client.Connect(net.JoinHostPort(host, port), user, pass, "")
	if err != nil {
		return fmt.Errorf("connect mariadb: %w", err)
	}
	defer conn.Close()
	suffix := strconv.FormatInt(time.Now().Unix(), 36)
	db := "bench_" + suffix
	exec1 := func(q string) error {
		if _, err := conn.Execute(q); err != nil {
			return fmt.Errorf("%.80s: %w", q, err)
		}
		return nil
	}
	if err := exec1("CREATE DATABASE " + db); err != nil {
		return err
	}
	defer conn.Execute("DROP DATABASE " + db)
	if err := exec1("CREATE TABLE " + db + `.t (id BIGINT PRIMARY KEY, k INT NOT NULL, name VARCHAR(64),
		amount DECIMAL(12,2), created DATETIME(3), flag TINYINT, note TEXT)`); err != nil {
		return err
	}
	start, err := masterPos(conn)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: writing %d inserts, %d updates, %d deletes\n", inserts, updates, deletes)
	const batch = 1000
	for i := 0; i < inserts; i += batch {
		var b strings.Builder
		b.WriteString("INSERT INTO " + db + ".t VALUES ")
		for j := i; j < min(i+batch, inserts); j++ {
			if j > i {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "(%d,%d,'name-%d',%d.%02d,'2024-05-01 10:00:00.123',%d,'some note text for row %d')", j+1, j%1000, j, j, j%100, j%2, j)
		}
		if err := exec1(b.String()); err != nil {
			return err
		}
	}
	for i := 0; i < updates; i += batch {
		if err := exec1(fmt.Sprintf("UPDATE %s.t SET k = k + 1, amount = amount + 1 WHERE id > %d AND id <= %d", db, i, min(i+batch, updates))); err != nil {
			return err
		}
	}
	for i := 0; i < deletes; i += batch {
		lo := inserts - deletes + i
		if err := exec1(fmt.Sprintf("DELETE FROM %s.t WHERE id > %d AND id <= %d", db, lo, min(lo+batch, inserts))); err != nil {
			return err
		}
	}
	end, err := masterPos(conn)
	if err != nil {
		return err
	}
	total := inserts + updates + deletes

	ceiling, err := rawParse(host, port, user, pass, start, end)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	e2e, err := endToEnd(bin, host, port, user, pass, brokers, db, start, total)
	if err != nil {
		return fmt.Errorf("end to end: %w", err)
	}
	// One transaction touching every remaining row: memory must stay
	// bounded by the producer's buffer, not by the transaction's size.
	bigStart, err := masterPos(conn)
	if err != nil {
		return err
	}
	if err := exec1("UPDATE " + db + ".t SET k = k + 1"); err != nil {
		return err
	}
	big, err := endToEnd(bin, host, port, user, pass, brokers, db, bigStart, inserts-deletes)
	if err != nil {
		return fmt.Errorf("one big transaction: %w", err)
	}
	big.name = "dts, one transaction of every row"
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "benchmark\trows\tseconds\trows/s\tpeak RSS MB\tnote\t\n")
	for _, r := range []result{ceiling, e2e} {
		rss := "-"
		if r.rssMB > 0 {
			rss = fmt.Sprintf("%.0f", r.rssMB)
		}
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%.0f\t%s\t%s\t\n", r.name, r.rows, r.secs, float64(r.rows)/r.secs, rss, r.remark)
	}
	ratio := (float64(e2e.rows) / e2e.secs) / (float64(ceiling.rows) / ceiling.secs)
	fmt.Fprintf(w, "end-to-end / ceiling\t\t\t%.0f%%\t\ttarget >= 60%%, RSS < 200 MB\t\n", 100*ratio)
	fmt.Fprintf(w, "%s\t%d\t%.2f\t%.0f\t%.0f\t%s\t\n", big.name, big.rows, big.secs, float64(big.rows)/big.secs, big.rssMB, "UPDATE of the whole table")
	return w.Flush()
}

func masterPos(conn *client.Conn) (mysql.Position, error) {
	r, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		return mysql.Position{}, err
	}
	f, _ := r.GetString(0, 0)
	p, _ := r.GetInt(0, 1)
	return mysql.Position{Name: f, Pos: uint32(p)}, nil
}

// rawParse reads [start, end) with go-mysql alone: the rate no CDC tool built
// on it can exceed.
func rawParse(host, port, user, pass string, start, end mysql.Position) (result, error) {
	p, _ := strconv.Atoi(port)
	cfg := replication.BinlogSyncerConfig{ServerID: 4_000_000_001, Flavor: mysql.MariaDBFlavor, Host: host, Port: uint16(p),
		User: user, Password: pass, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	s := replication.NewBinlogSyncer(cfg)
	defer s.Close()
	t0 := time.Now()
	st, err := s.StartSync(start)
	if err != nil {
		return result{}, err
	}
	rows := 0
	file := start.Name
	for {
		ev, err := st.GetEvent(context.Background())
		if err != nil {
			return result{}, err
		}
		switch e := ev.Event.(type) {
		case *replication.RotateEvent:
			file = string(e.NextLogName)
			continue // its LogPos belongs to the previous file
		case *replication.RowsEvent:
			if ev.Header.EventType == replication.UPDATE_ROWS_EVENTv1 || ev.Header.EventType == replication.UPDATE_ROWS_EVENTv2 {
				rows += len(e.Rows) / 2
			} else {
				rows += len(e.Rows)
			}
		}
		if file == end.Name && ev.Header.LogPos >= end.Pos {
			break
		}
	}
	return result{name: "binlog read+parse (go-mysql, ceiling)", rows: rows, secs: time.Since(t0).Seconds()}, nil
}

func endToEnd(bin, host, port, user, pass string, brokers []string, db string, start mysql.Position, total int) (result, error) {
	dir, err := os.MkdirTemp("", "dts-bench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	topic := "bench_" + filepath.Base(dir)
	spec := fmt.Sprintf(`name: bench
source: {host: %s, port: %s, user: %s, password: %s}
destination: {brokers: [%q], topic: %s, partitioning: primary_key, create_topics: true, partitions: 3}
objects: {databases: [%s]}
start: {from: position, position: "%s:%d"}
checkpoint: {dir: %s}
`, host, port, user, pass, brokers[0], topic, db, start.Name, start.Pos, dir)
	taskFile := filepath.Join(dir, "task.yaml")
	if err := os.WriteFile(taskFile, []byte(spec), 0o600); err != nil {
		return result{}, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return result{}, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	logf, err := os.Create(filepath.Join(dir, "dts.log"))
	if err != nil {
		return result{}, err
	}
	defer logf.Close()
	args := []string{"run", "-f", taskFile}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		args = append(args, "-cpuprofile", p)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer cmd.Process.Kill()
	var done int64
	for time.Since(t0) < 10*time.Minute {
		time.Sleep(50 * time.Millisecond)
		ends, err := adm.ListEndOffsets(context.Background(), topic)
		if err != nil {
			continue
		}
		done = 0
		ends.Each(func(o kadm.ListedOffset) { done += o.Offset })
		if done >= int64(total) {
			break
		}
	}
	secs := time.Since(t0).Seconds()
	rss := peakRSS(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if done < int64(total) {
		out, _ := os.ReadFile(filepath.Join(dir, "dts.log"))
		return result{}, fmt.Errorf("only %d of %d messages arrived; log:\n%s", done, total, out)
	}
	return result{name: "dts end to end (canal_json, acks=all)", rows: total, secs: secs, rssMB: rss,
		remark: "process start to last ack"}, nil
}

// peakRSS reads VmHWM of a live process, in MB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
