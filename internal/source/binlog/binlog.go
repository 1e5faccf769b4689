// Package binlog reads a MySQL or MariaDB binary log as a replica and turns
// it into cdc.Events: one event per changed row, DDL statements, and a Commit
// at every transaction end whose position is safe to resume from.
//
// It owns the replication connection (through go-mysql's BinlogSyncer),
// reconnection with backoff, GTID and file/offset bookkeeping, and the exact
// decoding of row images into cdc.Values using the column metadata of each
// TABLE_MAP event (binlog_row_metadata=FULL). When the server logs only
// MINIMAL metadata, a schema tracker (tracker.go) supplies column names from
// information_schema and follows DDL in binlog order.
//
// It does not select, filter or encode events beyond skipping the rows of
// tables that Config.Include rejects, and it does not persist positions:
// callers checkpoint Commit positions themselves.
package binlog

import (
	"errors"
	"hash/fnv"
	"log/slog"
	"os"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/secret"
)

// ErrPurged reports that the requested start position (file or GTID set) is
// no longer in the source's binary logs. It is returned wrapped with context;
// test for it with errors.Is.
var ErrPurged = errors.New("binlog position purged from the source")

// Config says which server to read and how to render what is read. Fields
// are documented with their defaults; call Validate before use.
type Config struct {
	// Host is the source's host name or IP address; required.
	Host string
	// Port is the source's port; default 3306.
	Port int
	// User needs REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR on
	// MariaDB) and SELECT on the replicated tables; required.
	User string
	// Password of User. Never logged.
	Password secret.String
	// TLS encrypts the connections; default off.
	TLS bool
	// TLSSkipVerify accepts any server certificate (TLS without
	// verification); default false.
	TLSSkipVerify bool
	// TLSCA is a PEM file of CA certificates to verify the server with;
	// default: the system roots. Requires TLS.
	TLSCA string
	// ServerID is the replica server id to register with. 0 (default)
	// derives a stable id in [1000000, 4000000000) from Name, different from
	// the source's own server_id.
	ServerID uint32
	// Name is the task name, used to derive ServerID and in logs.
	Name string
	// Flavor is cdc.MySQL or cdc.MariaDB; "" (default) detects it from
	// SELECT VERSION().
	Flavor cdc.Flavor
	// TimeZone is the zone TIMESTAMP values are rendered in. nil (default)
	// uses the source's @@time_zone (SYSTEM resolves to
	// @@system_time_zone), else UTC when that name is not known here.
	TimeZone *time.Location
	// Include reports whether the rows of a table are wanted. nil (default)
	// includes every table outside the system schemas (mysql,
	// information_schema, performance_schema, sys). Rows of tables not
	// included are skipped without being decoded. It is called on the
	// replication goroutine, at most once per table definition.
	Include func(schema, table string) bool
}

// Validate reports every problem with c at once, as errors.Join of
// *config.FieldError.
func (c *Config) Validate() error {
	var errs []error
	add := func(field, fix, problem string, args ...any) {
		errs = append(errs, config.Errorf(field, fix, problem, args...))
	}
	if c.Host == "" {
		add("host", "set the source server's host name or IP address", "is required")
	}
	if c.Port < 0 || c.Port > 65535 {
		add("port", "use a TCP port between 1 and 65535, or 0 for 3306", "%d is out of range", c.Port)
	}
	if c.User == "" {
		add("user", "set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT", "is required")
	}
	if c.ServerID == 0 && c.Name == "" {
		add("server_id", "set server_id, or set name so that one can be derived from it", "cannot be derived without a name")
	}
	switch c.Flavor {
	case "", cdc.MySQL, cdc.MariaDB:
	default:
		add("flavor", `use "mysql", "mariadb", or leave it empty to detect`, "%q is not a known flavor", c.Flavor)
	}
	if c.TLSCA != "" {
		if !c.TLS {
			add("tls_ca", "enable tls, or remove tls_ca", "is set but TLS is off")
		}
		if _, err := os.Stat(c.TLSCA); err != nil {
			add("tls_ca", "give the path of a readable PEM file of CA certificates", "cannot be read: %v", err)
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns c with defaults applied.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 3306
	}
	if c.Include == nil {
		c.Include = func(schema, _ string) bool { return !isSystemSchema(schema) }
	}
	return c
}

func isSystemSchema(s string) bool {
	switch s {
	case "mysql", "information_schema", "performance_schema", "sys":
		return true
	}
	return false
}

// Start modes for ResolveStart.
const (
	StartCurrent  = "current"  // the source's current position
	StartEarliest = "earliest" // the oldest retained binlog, offset 4
	StartPosition = "position" // value is "file:offset"
	StartGTID     = "gtid"     // value is a GTID set
)

// Server ids derived from names fall in [minDerivedID, maxDerivedID).
const (
	minDerivedID = 1_000_000
	maxDerivedID = 4_000_000_000
)

// deriveServerID maps name to a stable replica id in [minDerivedID,
// maxDerivedID) that differs from avoid (the source's own server_id).
func deriveServerID(name string, avoid uint32) uint32 {
	h := fnv.New64a()
	h.Write([]byte(name))
	id := uint32(minDerivedID + h.Sum64()%(maxDerivedID-minDerivedID))
	if id == avoid {
		id++
		if id >= maxDerivedID {
			id = minDerivedID
		}
	}
	return id
}

// logPos returns the standard log attributes of a position.
func logPos(p cdc.Position) []any {
	return []any{slog.String("binlog_file", p.File), slog.Uint64("binlog_pos", p.Offset), slog.String("gtid", p.GTIDSet)}
}
