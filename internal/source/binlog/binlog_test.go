package binlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	perrors "github.com/pingcap/errors"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
)

func TestConfigValidate(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Config{Host: "db", User: "cdc", Name: "task"}
	tests := []struct {
		name   string
		change func(*Config)
		fields []string
	}{
		{"valid", func(*Config) {}, nil},
		{"explicit server id, no name", func(c *Config) { c.Name, c.ServerID = "", 7 }, nil},
		{"tls with ca", func(c *Config) { c.TLS, c.TLSCA = true, ca }, nil},
		{"empty", func(c *Config) { *c = Config{} }, []string{"host", "server_id", "user"}},
		{"bad port", func(c *Config) { c.Port = 70000 }, []string{"port"}},
		{"bad flavor", func(c *Config) { c.Flavor = "oracle" }, []string{"flavor"}},
		{"ca without tls", func(c *Config) { c.TLSCA = ca }, []string{"tls_ca"}},
		{"missing ca", func(c *Config) { c.TLS, c.TLSCA = true, ca+".missing" }, []string{"tls_ca"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			var fields []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *config.FieldError
					if !errors.As(e, &fe) || fe.Fix == "" {
						t.Errorf("%v is not a FieldError with a fix", e)
						continue
					}
					fields = append(fields, fe.Field)
				}
			}
			sort.Strings(fields)
			if fmt.Sprint(fields) != fmt.Sprint(tt.fields) {
				t.Errorf("fields %v, want %v (%v)", fields, tt.fields, err)
			}
		})
	}
	if c := (Config{}).withDefaults(); c.Port != 3306 || !c.Include("shop", "t") || c.Include("mysql", "user") {
		t.Errorf("defaults: %+v", c)
	}
}

func TestDeriveServerID(t *testing.T) {
	seen := map[uint32]string{}
	for _, name := range []string{"orders", "orders-2", "billing", "a", ""} {
		id := deriveServerID(name, 0)
		if id < minDerivedID || id >= maxDerivedID {
			t.Errorf("%q: id %d out of range", name, id)
		}
		if id != deriveServerID(name, 0) {
			t.Errorf("%q: id is not stable", name)
		}
		if other, dup := seen[id]; dup {
			t.Errorf("%q and %q share id %d", name, other, id)
		}
		seen[id] = name
		if avoided := deriveServerID(name, id); avoided == id || avoided < minDerivedID || avoided >= maxDerivedID {
			t.Errorf("%q: did not avoid the source's id %d (got %d)", name, id, avoided)
		}
	}
}

func TestParseZone(t *testing.T) {
	for _, tt := range []struct {
		name   string
		offset int
		ok     bool
	}{
		{"UTC", 0, true}, {"+08:00", 8 * 3600, true}, {"-05:30", -(5*3600 + 1800), true},
		{"Asia/Shanghai", 8 * 3600, true}, {"CST", 0, false}, {"", 0, false},
	} {
		loc, ok := parseZone(tt.name)
		if ok != tt.ok {
			t.Errorf("%q: ok %v", tt.name, ok)
			continue
		}
		if ok {
			if _, off := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Zone(); off != tt.offset {
				t.Errorf("%q: offset %d, want %d", tt.name, off, tt.offset)
			}
		}
	}
}

func TestErrorClasses(t *testing.T) {
	purged := perrors.Trace(&mysql.MyError{Code: mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG,
		Message: "Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged."})
	corrupt := &mysql.MyError{Code: mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG, Message: "binlog truncated in the middle of event"}
	denied := &mysql.MyError{Code: mysql.ER_ACCESS_DENIED_ERROR, Message: "Access denied"}
	killed := &mysql.MyError{Code: mysql.ER_SERVER_SHUTDOWN, Message: "Server shutdown in progress"}
	for _, tt := range []struct {
		err       error
		purged    bool
		retryable bool
	}{
		{purged, true, false}, {corrupt, false, false}, {denied, false, false}, {killed, false, true},
		{perrors.Trace(io.EOF), false, true}, {mysql.ErrBadConn, false, true}, {fmt.Errorf("x: %w", ErrPurged), false, false},
	} {
		if isPurgeError(tt.err) != tt.purged || isRetryable(tt.err) != tt.retryable {
			t.Errorf("%v: purged %v retryable %v", tt.err, isPurgeError(tt.err), isRetryable(tt.err))
		}
	}
}

func TestTablesCache(t *testing.T) {
	tc := newTables()
	a1 := &tableInfo{key: "db\x00a", table: &cdc.Table{Name: "a"}}
	tc.put([]byte("sig1"), a1)
	if tc.get([]byte("sig1")) != a1 || a1.table.Version != 1 {
		t.Fatalf("first definition: %+v", a1.table)
	}
	a2 := &tableInfo{key: "db\x00a", table: &cdc.Table{Name: "a"}}
	tc.put([]byte("sig2"), a2)
	if tc.get([]byte("sig1")) != nil || tc.get([]byte("sig2")) != a2 || a2.table.Version != 2 {
		t.Errorf("changed definition: version %d", a2.table.Version)
	}
	b := &tableInfo{key: "db\x00b"}
	tc.put([]byte("sig3"), b)
	if tc.get([]byte("sig2")) != a2 || len(tc.bySig) != 2 {
		t.Errorf("another table evicted a's entry")
	}
}
