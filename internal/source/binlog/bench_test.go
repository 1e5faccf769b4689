package binlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/testkit"
)

const benchRows = 100_000

// benchRange writes benchRows rows (the bench tool's table) in 100
// transactions and returns the position before them.
func benchRange(b *testing.B) (*testkit.DB, Config, cdc.Position) {
	db := testkit.MariaDB(b)
	name := db.TempDatabase("binlogbench")
	db.Exec("CREATE TABLE " + name + `.t (id BIGINT PRIMARY KEY, k INT NOT NULL, name VARCHAR(64),
		amount DECIMAL(12,2), created DATETIME(3), flag TINYINT, note TEXT)`)
	cfg := Config{Host: db.Host, Port: db.Port, User: db.User, Name: "bench", Include: onlyDB(name)}
	cfg.Password = testConfig(db, nil).Password
	ctx := context.Background()
	start, err := ResolveStart(ctx, cfg, StartCurrent, "")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchRows; i += 1000 {
		var s strings.Builder
		s.WriteString("INSERT INTO " + name + ".t VALUES ")
		for j := i; j < i+1000; j++ {
			if j > i {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, "(%d,%d,'name-%d',%d.%02d,'2024-05-01 10:00:00.123',%d,'some note text for row %d')", j+1, j%1000, j, j, j%100, j%2, j)
		}
		db.Exec(s.String())
	}
	return db, cfg, start
}

// BenchmarkIntegrationReader reads benchRows inserted rows through Reader;
// BenchmarkIntegrationGoMySQL reads the same kind of range with go-mysql's
// own decoding, the ceiling. Compare their ns/row.
func BenchmarkIntegrationReader(b *testing.B) {
	_, cfg, start := benchRange(b)
	start.GTIDSet = "" // as the ceiling does: MariaDB finds a GTID by scanning the file
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		b.StopTimer() // Open's metadata queries are not the stream's rate
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		r, err := Open(ctx, cfg, start, log)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for rows := 0; rows < benchRows; {
			ev, err := r.Next(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if ev.Op == cdc.Insert {
				rows++
			}
		}
		r.Close()
		cancel()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}

func BenchmarkIntegrationGoMySQL(b *testing.B) {
	db, cfg, start := benchRange(b)
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{ServerID: 4_000_000_002, Flavor: mysql.MariaDBFlavor,
			Host: db.Host, Port: uint16(db.Port), User: db.User, Password: cfg.Password.Reveal(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		st, err := s.StartSync(mysql.Position{Name: start.File, Pos: uint32(start.Offset)})
		if err != nil {
			b.Fatal(err)
		}
		for rows := 0; rows < benchRows; {
			ev, err := st.GetEvent(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if re, ok := ev.Event.(*replication.RowsEvent); ok && cfg.Include(string(re.Table.Schema), "") {
				rows += len(re.Rows)
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchRows), "ns/row")
}
