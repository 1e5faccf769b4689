// Package task defines a task's specification (the task file, later the REST
// body and the stored record), its strict decoding and its validation. A Spec
// composes the Config structs of the library packages; it does not run
// anything. Running is the pipeline's job.
package task

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/format"
	"github.com/opendts/opendts/internal/kafka"
	"github.com/opendts/opendts/internal/objects"
	"github.com/opendts/opendts/internal/secret"
)

// Spec is one task: where to read, what to select, how to write and where to
// keep its state. It is decoded from YAML (the task file) with unknown keys
// rejected.
type Spec struct {
	// Name identifies the task in logs, checkpoints and the server id
	// derivation. Letters, digits, '-', '_' and '.'; required.
	Name string `yaml:"name" json:"name"`
	// Source is the MySQL-family server to read.
	Source Source `yaml:"source" json:"source"`
	// Destination is the Kafka cluster and topics to write.
	Destination kafka.Config `yaml:"destination" json:"destination"`
	// Objects selects the databases and tables to synchronize.
	Objects objects.Config `yaml:"objects" json:"objects"`
	// Format is the message format; default Canal JSON.
	Format format.Config `yaml:"format" json:"format"`
	// Start says where the incremental stage begins when the task has no
	// checkpoint yet. Once a checkpoint exists it always wins.
	Start Start `yaml:"start" json:"start"`
	// Checkpoint says where the task's state lives.
	Checkpoint Checkpoint `yaml:"checkpoint" json:"checkpoint"`
}

// Source is the connection to the source server.
type Source struct {
	// Host name or IP address; required.
	Host string `yaml:"host" json:"host"`
	// Port; default 3306.
	Port int `yaml:"port" json:"port"`
	// User needs REPLICATION SLAVE, REPLICATION CLIENT and SELECT; required.
	User string `yaml:"user" json:"user"`
	// Password of User. Never logged.
	Password secret.String `yaml:"password" json:"password"`
	// PasswordEnv names an environment variable holding the password, used
	// when Password is empty.
	PasswordEnv string `yaml:"password_env" json:"password_env,omitempty"`
	// TLS is "disabled" (default), "required" (encrypt, do not verify the
	// certificate), or "verify_ca" (encrypt and verify against CAFile or
	// the system roots).
	TLS string `yaml:"tls" json:"tls,omitempty"`
	// CAFile is a PEM file of CA certificates for TLS "verify_ca".
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// ServerID is the replica server id the task uses; 0 (default) derives
	// a stable id from the task name.
	ServerID uint32 `yaml:"server_id" json:"server_id,omitempty"`
	// TimeZone renders TIMESTAMP values, as an IANA name such as
	// "Asia/Shanghai" or "UTC"; default: the source server's time zone.
	TimeZone string `yaml:"time_zone" json:"time_zone,omitempty"`
	// Flavor is "mysql" or "mariadb"; default: detected from the server.
	Flavor string `yaml:"flavor" json:"flavor,omitempty"`
}

// Start modes.
const (
	StartCurrent  = "current"  // the source's position when the task first starts (default)
	StartEarliest = "earliest" // the oldest binlog the source still retains
	StartPosition = "position" // Start.Position, "file:offset"
	StartGTID     = "gtid"     // Start.GTIDSet
)

// Start is where a task without a checkpoint begins reading.
type Start struct {
	// From is "current" (default), "earliest", "position" or "gtid".
	From string `yaml:"from" json:"from,omitempty"`
	// Position is "binlog-file:offset", with From "position".
	Position string `yaml:"position" json:"position,omitempty"`
	// GTIDSet is the set of transactions already seen, with From "gtid":
	// MySQL "uuid:1-100" or MariaDB "0-1-100".
	GTIDSet string `yaml:"gtid_set" json:"gtid_set,omitempty"`
}

// Checkpoint says where task state is kept.
type Checkpoint struct {
	// Dir is a directory for the task's embedded state store; default
	// "./dts-data". It is created if missing.
	Dir string `yaml:"dir" json:"dir,omitempty"`
	// Interval is how often the safe position is persisted, as a Go
	// duration; default "1s". Positions are also saved on shutdown.
	Interval string `yaml:"interval" json:"interval,omitempty"`
}

// Load reads and validates a task file.
func Load(path string) (Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return Spec{}, fmt.Errorf("open task file: %w", err)
	}
	defer f.Close()
	s, err := Decode(f)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			return Spec{}, fmt.Errorf("task file %s:\n%w", path, err)
		}
		return Spec{}, fmt.Errorf("task file %s: %w", path, err)
	}
	return s, nil
}

// Decode reads a YAML task strictly (unknown keys are errors), applies
// defaults and validates it.
func Decode(r io.Reader) (Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Spec{}, err
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, errors.New("the task file is empty; see docs/task-file.md for the fields")
		}
		return Spec{}, fmt.Errorf("%w; see docs/task-file.md for the fields", err)
	}
	s.withDefaults()
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (s *Spec) withDefaults() {
	if s.Source.Port == 0 {
		s.Source.Port = 3306
	}
	if s.Source.Password.IsZero() && s.Source.PasswordEnv != "" {
		s.Source.Password = secret.New(os.Getenv(s.Source.PasswordEnv))
	}
	if s.Source.TLS == "" {
		s.Source.TLS = "disabled"
	}
	if s.Start.From == "" {
		s.Start.From = StartCurrent
	}
	if s.Checkpoint.Dir == "" {
		s.Checkpoint.Dir = "./dts-data"
	}
	if s.Checkpoint.Interval == "" {
		s.Checkpoint.Interval = "1s"
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Validate reports every problem at once, each naming its field and the fix.
func (s *Spec) Validate() error {
	var errs []error
	add := func(e error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if !nameRE.MatchString(s.Name) {
		add(config.Errorf("name", "use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit", "%q is not a valid task name", s.Name))
	}
	add(config.Prefix("source", s.Source.validate()))
	add(config.Prefix("destination", s.Destination.Validate()))
	add(config.Prefix("objects", s.Objects.Validate()))
	add(config.Prefix("format", s.Format.Validate()))
	add(config.Prefix("start", s.Start.validate()))
	add(config.Prefix("checkpoint", s.Checkpoint.validate()))
	return errors.Join(errs...)
}

func (s *Source) validate() error {
	var errs []error
	if s.Host == "" {
		errs = append(errs, config.Errorf("host", "set the source server's host name or IP address", "is required"))
	}
	if s.Port < 1 || s.Port > 65535 {
		errs = append(errs, config.Errorf("port", "use a TCP port between 1 and 65535", "%d is not a valid port", s.Port))
	}
	if s.User == "" {
		errs = append(errs, config.Errorf("user", "set a user with REPLICATION SLAVE, REPLICATION CLIENT and SELECT", "is required"))
	}
	switch s.TLS {
	case "disabled", "required", "verify_ca":
	default:
		errs = append(errs, config.Errorf("tls", `use "disabled", "required" or "verify_ca"`, "%q is not a TLS mode", s.TLS))
	}
	if s.CAFile != "" && s.TLS != "verify_ca" {
		errs = append(errs, config.Errorf("ca_file", `set tls: verify_ca to use it, or remove ca_file`, "is only used with tls verify_ca"))
	}
	switch s.Flavor {
	case "", "mysql", "mariadb":
	default:
		errs = append(errs, config.Errorf("flavor", `use "mysql" or "mariadb", or leave it empty to detect`, "%q is not a flavor", s.Flavor))
	}
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			errs = append(errs, config.Errorf("time_zone", `use an IANA zone name such as "UTC" or "Asia/Shanghai", or leave it empty for the server's zone`, "%q is not a known time zone", s.TimeZone))
		}
	}
	return errors.Join(errs...)
}

func (s *Start) validate() error {
	switch s.From {
	case StartCurrent, StartEarliest:
		if s.Position != "" || s.GTIDSet != "" {
			return config.Errorf("from", `use from: position with position, or from: gtid with gtid_set`, "%q ignores position and gtid_set", s.From)
		}
	case StartPosition:
		if _, err := cdc.ParseFilePos(s.Position); err != nil {
			return config.Errorf("position", "write it as binlog-file:offset, such as mysql-bin.000003:4", "%q is not a binlog position", s.Position)
		}
	case StartGTID:
		if s.GTIDSet == "" {
			return config.Errorf("gtid_set", `set the GTID set already seen, such as "0-1-100" (MariaDB) or "uuid:1-100" (MySQL)`, "is required with from: gtid")
		}
	default:
		return config.Errorf("from", `use "current", "earliest", "position" or "gtid"`, "%q is not a start mode", s.From)
	}
	return nil
}

func (c *Checkpoint) validate() error {
	if d, err := time.ParseDuration(c.Interval); err != nil || d <= 0 {
		return config.Errorf("interval", `use a positive Go duration such as "1s" or "500ms"`, "%q is not a duration", c.Interval)
	}
	return nil
}
