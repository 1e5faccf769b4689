// Package testkit gives tests the real MariaDB and Kafka that `make test`
// starts (addresses from the environment, see scripts/infra.sh env), plus
// golden-file helpers. Integration tests call MariaDB or Kafka first: under
// -short they skip; otherwise an unreachable server fails the test, never
// skips it. Only test files import this package.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DB is a connection to the test MariaDB.
type DB struct {
	Host     string
	Port     int
	User     string
	Password string
	t        testing.TB
	conn     *client.Conn
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// MariaDB connects to the test server as its administrative user. The
// connection is closed when the test ends.
func MariaDB(t testing.TB) *DB {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs MariaDB (run without -short, via make test)")
	}
	port, _ := strconv.Atoi(env("MARIADB_PORT", "3307"))
	db := &DB{Host: env("MARIADB_HOST", "127.0.0.1"), Port: port,
		User: env("MARIADB_USER", "root"), Password: env("MARIADB_PASSWORD", "root"), t: t}
	conn, err := db.Connect()
	if err != nil {
		t.Fatalf("MariaDB at %s:%d is not reachable (start it with `bash scripts/infra.sh up`): %v", db.Host, db.Port, err)
	}
	db.conn = conn
	t.Cleanup(func() { conn.Close() })
	return db
}

// Connect opens a new connection with the same credentials.
func (db *DB) Connect() (*client.Conn, error) {
	return client.Connect(net.JoinHostPort(db.Host, strconv.Itoa(db.Port)), db.User, db.Password, "",
		func(c *client.Conn) error { c.SetTLSConfig(nil); return nil })
}

// Exec runs statements, failing the test on error.
func (db *DB) Exec(stmts ...string) {
	db.t.Helper()
	for _, s := range stmts {
		if _, err := db.conn.Execute(s); err != nil {
			db.t.Fatalf("exec %q: %v", s, err)
		}
	}
}

// Query runs a query and returns its result.
func (db *DB) Query(q string, args ...any) *mysql.Result {
	db.t.Helper()
	r, err := db.conn.Execute(q, args...)
	if err != nil {
		db.t.Fatalf("query %q: %v", q, err)
	}
	return r
}

// TempDatabase creates a database named prefix_<random> that is dropped when
// the test ends, and returns its name.
func (db *DB) TempDatabase(prefix string) string {
	db.t.Helper()
	name := prefix + "_" + RandomSuffix()
	db.Exec("CREATE DATABASE " + name)
	db.t.Cleanup(func() {
		if c, err := db.Connect(); err == nil {
			c.Execute("DROP DATABASE IF EXISTS " + name)
			c.Close()
		}
	})
	return name
}

// RandomSuffix returns 8 random hex characters.
func RandomSuffix() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// KafkaBrokers returns the test broker addresses after checking that one
// accepts connections.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs Kafka (run without -short, via make test)")
	}
	brokers := strings.Split(env("KAFKA_BROKERS", "127.0.0.1:9092"), ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("Kafka at %v is not reachable (start it with `bash scripts/infra.sh up`): %v", brokers, err)
	}
	return brokers
}

// ConsumeAll reads every record of topic from the beginning up to the
// partitions' end offsets at the time of the call, in per-partition order.
func ConsumeAll(t testing.TB, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	cl.Close()
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	remaining := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	if len(remaining) == 0 {
		return out
	}
	err = Stream(ctx, brokers, topic, func(r *kgo.Record) bool {
		if end, ok := remaining[r.Partition]; ok && r.Offset < end {
			out = append(out, r)
			if r.Offset == end-1 {
				delete(remaining, r.Partition)
			}
		}
		return len(remaining) == 0
	})
	if err != nil {
		t.Fatalf("consume %s: %v (partitions not read to the end: %v)", topic, err, remaining)
	}
	return out
}

// Stream consumes topic from the start, calling fn for every record in
// per-partition order, until fn returns true (Stream returns nil) or ctx
// ends (Stream returns ctx's error).
func Stream(ctx context.Context, brokers []string, topic string, fn func(*kgo.Record) bool) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, e := range fs.Errors() {
			return fmt.Errorf("%s[%d]: %w", e.Topic, e.Partition, e.Err)
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if !done && fn(r) {
				done = true
			}
		})
		if done {
			return nil
		}
	}
}
