package binlog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/opendts/opendts/internal/cdc"
)

// queryTimeout bounds each metadata query.
const queryTimeout = 30 * time.Second

// tlsConfig builds the TLS configuration of cfg, or nil without TLS.
func tlsConfig(cfg *Config) (*tls.Config, error) {
	if !cfg.TLS {
		return nil, nil
	}
	tc := &tls.Config{ServerName: cfg.Host, InsecureSkipVerify: cfg.TLSSkipVerify, MinVersion: tls.VersionTLS12}
	if cfg.TLSCA != "" {
		pem, err := os.ReadFile(cfg.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("read tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca %s holds no PEM certificates", cfg.TLSCA)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// dial opens a metadata connection to the source.
func dial(ctx context.Context, cfg *Config) (*client.Conn, error) {
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	conn, err := client.ConnectWithContext(ctx, addr, cfg.User, cfg.Password.Reveal(), "", 10*time.Second,
		func(c *client.Conn) error {
			c.SetTLSConfig(tc)
			c.ReadTimeout = queryTimeout
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", addr, cfg.User, err)
	}
	return conn, nil
}

// server is what the reader learns about the source before streaming.
type server struct {
	flavor     cdc.Flavor
	version    string
	serverID   uint32
	loc        *time.Location
	collations collations
	fullMeta   bool   // binlog_row_metadata=FULL
	rowImage   string // binlog_row_image
	format     string // binlog_format
	minimal    bool   // ignore optional TABLE_MAP metadata (tests)
}

// widths reports whether the server prints integer display widths.
func (s *server) widths() bool {
	if s.flavor == cdc.MariaDB {
		return true
	}
	var major, minor, patch int
	fmt.Sscanf(s.version, "%d.%d.%d", &major, &minor, &patch)
	return major < 8 || (major == 8 && minor == 0 && patch < 19)
}

// queryRow runs q and returns the first row's columns as strings (nil if
// there is no row).
func queryRow(conn *client.Conn, q string, args ...any) ([]string, error) {
	r, err := conn.Execute(q, args...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if r.Resultset == nil || r.RowNumber() == 0 {
		return nil, nil
	}
	out := make([]string, r.ColumnNumber())
	for i := range out {
		s, _ := r.GetString(0, i)
		out[i] = strings.Clone(s)
	}
	return out, nil
}

// detectFlavor reads the flavor from the server version.
func detectFlavor(conn *client.Conn) (cdc.Flavor, string, error) {
	row, err := queryRow(conn, "SELECT VERSION()")
	if err != nil || row == nil {
		return "", "", fmt.Errorf("read server version: %w", err)
	}
	if strings.Contains(strings.ToLower(row[0]), "mariadb") {
		return cdc.MariaDB, row[0], nil
	}
	return cdc.MySQL, row[0], nil
}

// probe reads the server facts the reader needs.
func probe(conn *client.Conn, cfg *Config, log *slog.Logger) (*server, error) {
	flavor, version, err := detectFlavor(conn)
	if err != nil {
		return nil, err
	}
	if cfg.Flavor != "" && cfg.Flavor != flavor {
		return nil, fmt.Errorf("flavor is %q but the server reports %q (%s)", cfg.Flavor, flavor, version)
	}
	s := &server{flavor: flavor, version: version, collations: collations{}}
	row, err := queryRow(conn, "SELECT @@server_id, @@time_zone, @@system_time_zone, @@binlog_format, @@binlog_row_image")
	if err != nil || row == nil {
		return nil, fmt.Errorf("read server variables: %w", err)
	}
	id, _ := strconv.ParseUint(row[0], 10, 32)
	s.serverID, s.format, s.rowImage = uint32(id), strings.ToUpper(row[3]), strings.ToUpper(row[4])
	s.loc = cfg.TimeZone
	if s.loc == nil {
		s.loc = serverZone(conn, row[1], row[2], log)
	}
	if row, err := queryRow(conn, "SELECT @@binlog_row_metadata"); err == nil && row != nil {
		s.fullMeta = strings.EqualFold(row[0], "FULL")
	}
	for _, q := range []string{
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL",
		// MariaDB 10.10+ lists the ids of every charset/collation pair here.
		"SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY WHERE ID IS NOT NULL",
	} {
		r, err := conn.Execute(q)
		if err != nil {
			continue
		}
		for i := 0; i < r.RowNumber(); i++ {
			id, _ := r.GetUint(i, 0)
			cs, _ := r.GetString(i, 1)
			s.collations[id] = strings.Clone(cs)
		}
		r.Close()
	}
	if s.format != "ROW" {
		log.Warn("binlog_format is not ROW: changes logged as statements are not captured", slog.String("binlog_format", s.format))
	}
	if s.rowImage != "FULL" {
		log.Warn("binlog_row_image is not FULL: columns missing from row images are read as NULL", slog.String("binlog_row_image", s.rowImage))
	}
	return s, nil
}

// serverZone resolves the server's time zone for TIMESTAMP rendering.
func serverZone(conn *client.Conn, tz, system string, log *slog.Logger) *time.Location {
	name := tz
	if strings.EqualFold(tz, "SYSTEM") {
		name = system
	}
	if loc, ok := parseZone(name); ok {
		return loc
	}
	// An abbreviation such as "CST" is ambiguous: use the server's current
	// offset from UTC (right until its next daylight-saving change).
	if row, err := queryRow(conn, "SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())"); err == nil && row != nil {
		if off, err := strconv.Atoi(row[0]); err == nil {
			log.Warn("source time zone is not an IANA name; using its current UTC offset (set time_zone to be exact)",
				slog.String("time_zone", name), slog.Int("offset_seconds", off))
			return time.FixedZone(name, off)
		}
	}
	log.Warn("source time zone unknown; rendering TIMESTAMP in UTC", slog.String("time_zone", name))
	return time.UTC
}

// parseZone understands IANA names and "+08:00" offsets.
func parseZone(name string) (*time.Location, bool) {
	if name == "" {
		return nil, false
	}
	if name[0] == '+' || name[0] == '-' {
		var h, m int
		if _, err := fmt.Sscanf(name[1:], "%d:%d", &h, &m); err == nil {
			off := h*3600 + m*60
			if name[0] == '-' {
				off = -off
			}
			return time.FixedZone(name, off), true
		}
		return nil, false
	}
	if strings.EqualFold(name, "UTC") {
		return time.UTC, true
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

// binaryLogs lists the server's binary log files, oldest first.
func binaryLogs(conn *client.Conn) ([]string, error) {
	r, err := conn.Execute("SHOW BINARY LOGS")
	if err != nil {
		return nil, fmt.Errorf("list binary logs: %w", err)
	}
	defer r.Close()
	files := make([]string, 0, r.RowNumber())
	for i := 0; i < r.RowNumber(); i++ {
		f, _ := r.GetString(i, 0)
		files = append(files, strings.Clone(f))
	}
	return files, nil
}

// checkFile returns ErrPurged if file is not among the server's binary logs.
func checkFile(conn *client.Conn, file string) error {
	files, err := binaryLogs(conn)
	if err != nil {
		return nil // no privilege to list: let the stream report it
	}
	for _, f := range files {
		if f == file {
			return nil
		}
	}
	first := ""
	if len(files) > 0 {
		first = files[0]
	}
	return fmt.Errorf("binlog file %s is not on the server (oldest is %s): %w", file, first, ErrPurged)
}

// mariadbGTIDPos returns the MariaDB GTID position at file:offset.
func mariadbGTIDPos(conn *client.Conn, file string, offset uint64) (string, error) {
	row, err := queryRow(conn, "SELECT BINLOG_GTID_POS(?, ?)", file, offset)
	if err != nil {
		return "", fmt.Errorf("read gtid position of %s:%d: %w", file, offset, err)
	}
	if row == nil {
		return "", nil
	}
	return row[0], nil
}

// isPurgeError reports whether err is the server saying the requested
// binlog file or GTIDs are gone.
func isPurgeError(err error) bool {
	var me *mysql.MyError
	if !errors.As(err, &me) || me.Code != mysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return false
	}
	m := strings.ToLower(me.Message)
	for _, s := range []string{"purged", "could not find first log file", "could not find gtid state", "could not find next log", "gtid_purged"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isRetryable reports whether a stream error may go away by reconnecting:
// network failures and server-side connection kills, not refusals or
// events go-mysql cannot parse.
func isRetryable(err error) bool {
	var ee *replication.EventError
	if errors.As(err, &ee) {
		return false
	}
	var me *mysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case mysql.ER_CON_COUNT_ERROR, mysql.ER_SERVER_SHUTDOWN, mysql.ER_NET_READ_ERROR, mysql.ER_NET_READ_INTERRUPTED,
			mysql.ER_NET_ERROR_ON_WRITE, mysql.ER_NET_WRITE_INTERRUPTED, mysql.ER_QUERY_INTERRUPTED,
			mysql.ER_TOO_MANY_USER_CONNECTIONS:
			return true
		}
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, ErrPurged)
}

// Dial opens a plain SQL connection to the source with cfg's address,
// credentials and TLS settings, for callers that read tables (verify, the
// full stage).
func Dial(ctx context.Context, cfg Config) (*client.Conn, error) {
	return dial(ctx, &cfg)
}
