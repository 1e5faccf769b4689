package binlog

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/opendts/opendts/internal/cdc"
)

// ResolveStart turns a start mode and its value into a position to Open at:
//
//   - StartCurrent: the server's current position (SHOW MASTER STATUS), with
//     its GTID set (@@gtid_executed on MySQL with GTIDs on; the GTID position
//     at that file and offset on MariaDB);
//   - StartEarliest: offset 4 of the oldest binlog the server retains;
//   - StartPosition: value as "file:offset";
//   - StartGTID: value as a GTID set of the server's flavor.
//
// The returned position has Flavor set.
func ResolveStart(ctx context.Context, cfg Config, mode string, value string) (cdc.Position, error) {
	if err := cfg.Validate(); err != nil {
		return cdc.Position{}, err
	}
	cfg = cfg.withDefaults()
	conn, err := dial(ctx, &cfg)
	if err != nil {
		return cdc.Position{}, err
	}
	defer conn.Close()
	flavor := cfg.Flavor
	if flavor == "" {
		if flavor, _, err = detectFlavor(conn); err != nil {
			return cdc.Position{}, err
		}
	}
	switch mode {
	case StartCurrent, "":
		return currentPosition(conn, flavor)
	case StartEarliest:
		files, err := binaryLogs(conn)
		if err != nil {
			return cdc.Position{}, err
		}
		if len(files) == 0 {
			return cdc.Position{}, fmt.Errorf("the server lists no binary logs; enable log_bin")
		}
		return cdc.Position{Flavor: flavor, File: files[0], Offset: 4}, nil
	case StartPosition:
		p, err := cdc.ParseFilePos(value)
		if err != nil {
			return cdc.Position{}, err
		}
		if p.Offset < 4 {
			p.Offset = 4
		}
		p.Flavor = flavor
		return p, checkFile(conn, p.File)
	case StartGTID:
		s, err := mysql.ParseGTIDSet(string(flavor), strings.TrimSpace(value))
		if err != nil {
			return cdc.Position{}, fmt.Errorf("gtid set %q is not a valid %s GTID set: %w", value, flavor, err)
		}
		return cdc.Position{Flavor: flavor, GTIDSet: s.String()}, nil
	}
	return cdc.Position{}, fmt.Errorf("start mode %q: use %s, %s, %s or %s", mode, StartCurrent, StartEarliest, StartPosition, StartGTID)
}

// currentPosition reads the server's current binlog position.
func currentPosition(conn *client.Conn, flavor cdc.Flavor) (cdc.Position, error) {
	r, err := conn.Execute("SHOW MASTER STATUS")
	if err != nil {
		// MySQL 8.4 renamed the statement.
		if r, err = conn.Execute("SHOW BINARY LOG STATUS"); err != nil {
			return cdc.Position{}, fmt.Errorf("read current binlog position: %w", err)
		}
	}
	defer r.Close()
	if r.RowNumber() == 0 {
		return cdc.Position{}, fmt.Errorf("the server reports no binlog position; enable log_bin")
	}
	file, _ := r.GetString(0, 0)
	off, _ := r.GetUint(0, 1)
	p := cdc.Position{Flavor: flavor, File: strings.Clone(file), Offset: off}
	switch flavor {
	case cdc.MySQL:
		if r.ColumnNumber() >= 5 {
			s, _ := r.GetString(0, 4)
			p.GTIDSet = strings.Join(strings.Fields(s), "") // the column wraps long sets over lines
		}
	case cdc.MariaDB:
		if p.GTIDSet, err = mariadbGTIDPos(conn, p.File, p.Offset); err != nil {
			return cdc.Position{}, err
		}
	}
	return p, nil
}
