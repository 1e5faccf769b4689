package kafka

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/secret"
)

// Partition policies, the values of Config.Partitioning.
const (
	// PolicyPartition0 sends every record to partition 0: one total order,
	// the source's, across all tables (DTS "Ship All Data to Partition 0").
	PolicyPartition0 = "partition0"
	// PolicyTable hashes "database.table": all rows and DDL of one table go
	// to one partition (DTS "Hash Values of Database and Table Names").
	PolicyTable = "table"
	// PolicyPrimaryKey hashes the row's primary key values: all changes of
	// one row go to one partition (DTS "Hash Values of Primary Keys").
	PolicyPrimaryKey = "primary_key"
)

// Defaults applied by WithDefaults to zero fields.
const (
	DefaultClientID           = "opendts"
	DefaultCompression        = "lz4"
	DefaultAcks               = "all"
	DefaultPartitioning       = PolicyPartition0
	DefaultMaxRecordBytes     = 10 << 20 // 10 MiB
	DefaultMaxBufferedRecords = 10000
	DefaultMaxBufferedBytes   = 256 << 20 // 256 MiB
)

// maxRecordBytesLimit keeps a record (and so a batch) well under what kgo
// accepts for one batch, 1 GiB.
const maxRecordBytesLimit = 512 << 20

// Config is the Kafka destination of a task: the cluster, its credentials,
// the topics, and how records are batched, acknowledged and partitioned.
// Zero fields take the defaults listed with each field (see WithDefaults);
// docs/kafka.md is the user-facing reference.
type Config struct {
	// Brokers are the bootstrap brokers, as host:port; at least one.
	Brokers []string `yaml:"brokers" json:"brokers"`
	// Topic receives every row event, and DDL unless DDLTopic is set.
	Topic string `yaml:"topic" json:"topic"`
	// DDLTopic receives DDL events; empty means Topic.
	DDLTopic string `yaml:"ddl_topic" json:"ddl_topic,omitempty"`
	// ClientID names the producer in broker logs and quotas; default "opendts".
	ClientID string `yaml:"client_id" json:"client_id,omitempty"`
	// SASL authenticates to the brokers; empty Mechanism means none.
	SASL SASLConfig `yaml:"sasl" json:"sasl,omitzero"`
	// TLS encrypts the connections to the brokers.
	TLS TLSConfig `yaml:"tls" json:"tls,omitzero"`
	// Compression of record batches: "lz4" (default), "snappy", "zstd",
	// "gzip" or "none".
	Compression string `yaml:"compression" json:"compression,omitempty"`
	// Acks is how many replicas must have a batch before it counts as
	// written: "all" (default; with the idempotent producer), "1" (the
	// leader only) or "0" (none). "1" and "0" turn idempotence off and can
	// lose acknowledged records when a leader fails; see docs/kafka.md.
	Acks string `yaml:"acks" json:"acks,omitempty"`
	// Partitioning is the partition policy: "partition0" (default),
	// "table" or "primary_key".
	Partitioning string `yaml:"partitioning" json:"partitioning,omitempty"`
	// Partitions is the partition count of topics that CreateTopics
	// creates; 0 leaves it to the broker's num.partitions.
	Partitions int32 `yaml:"partitions" json:"partitions,omitempty"`
	// ReplicationFactor of topics that CreateTopics creates; 0 leaves it
	// to the broker's default.replication.factor.
	ReplicationFactor int16 `yaml:"replication_factor" json:"replication_factor,omitempty"`
	// CreateTopics creates missing topics at start. Without it a missing
	// topic is an error.
	CreateTopics bool `yaml:"create_topics" json:"create_topics,omitempty"`
	// MaxRecordBytes is the largest record (key, value and headers,
	// before compression) the task produces; default 10 MiB. A larger
	// record, or one larger than the topic's max.message.bytes, fails the
	// task: records are never dropped. Topics that CreateTopics creates get
	// max.message.bytes = MaxRecordBytes.
	MaxRecordBytes int `yaml:"max_record_bytes" json:"max_record_bytes,omitempty"`
	// BatchBytes caps one partition's batch before compression; default
	// MaxRecordBytes, and never less (a record must fit in a batch). Each
	// topic's batches are further capped at its max.message.bytes.
	BatchBytes int `yaml:"batch_bytes" json:"batch_bytes,omitempty"`
	// Linger is how long a partition's batch waits for more records
	// before it is sent; default 0 (batches still grow while earlier
	// requests are in flight). Written as a Go duration ("5ms").
	Linger time.Duration `yaml:"linger" json:"linger,omitempty"`
	// MaxBufferedRecords bounds the records produced but not yet
	// acknowledged; default 10000. When it is reached the task stops
	// reading the source until Kafka catches up (backpressure).
	MaxBufferedRecords int `yaml:"max_buffered_records" json:"max_buffered_records,omitempty"`
	// MaxBufferedBytes bounds the bytes produced but not yet acknowledged;
	// default 256 MiB, and at least MaxRecordBytes.
	MaxBufferedBytes int `yaml:"max_buffered_bytes" json:"max_buffered_bytes,omitempty"`
}

// SASL mechanisms, the values of SASLConfig.Mechanism.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASLConfig is SASL authentication to the brokers.
type SASLConfig struct {
	// Mechanism is "" (no SASL), "PLAIN", "SCRAM-SHA-256" or
	// "SCRAM-SHA-512" (case-insensitive). PLAIN sends the password in the
	// clear unless TLS is enabled.
	Mechanism string `yaml:"mechanism" json:"mechanism,omitempty"`
	// User is the SASL user name.
	User string `yaml:"user" json:"user,omitempty"`
	// Password of User. Never logged.
	Password secret.String `yaml:"password" json:"password,omitzero"`
	// PasswordEnv names an environment variable holding the password, used
	// when Password is empty.
	PasswordEnv string `yaml:"password_env" json:"password_env,omitempty"`
}

// TLSConfig is TLS to the brokers.
type TLSConfig struct {
	// Enabled turns TLS on; the other fields need it.
	Enabled bool `yaml:"enabled" json:"enabled,omitempty"`
	// CAFile is a PEM file of CA certificates to verify brokers with;
	// default: the system roots.
	CAFile string `yaml:"ca_file" json:"ca_file,omitempty"`
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// brokers that require client authentication (mTLS).
	CertFile string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file" json:"key_file,omitempty"`
	// InsecureSkipVerify accepts any broker certificate. For tests only:
	// it allows a man in the middle.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify" json:"insecure_skip_verify,omitempty"`
	// ServerName overrides the host name verified in broker certificates.
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// WithDefaults returns c with every zero field set to its default. It does
// not resolve SASL.PasswordEnv; NewClient does, at connect time.
func (c Config) WithDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	c.Compression = strings.ToLower(c.Compression)
	if c.Acks == "" {
		c.Acks = DefaultAcks
	}
	if c.Acks == "-1" {
		c.Acks = "all"
	}
	if c.Partitioning == "" {
		c.Partitioning = DefaultPartitioning
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = c.MaxRecordBytes
	}
	if c.MaxBufferedRecords == 0 {
		c.MaxBufferedRecords = DefaultMaxBufferedRecords
	}
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = max(DefaultMaxBufferedBytes, c.MaxRecordBytes)
	}
	c.SASL.Mechanism = strings.ToUpper(c.SASL.Mechanism)
	return c
}

// ddlTopic returns the topic DDL events go to.
func (c *Config) ddlTopic() string {
	if c.DDLTopic != "" {
		return c.DDLTopic
	}
	return c.Topic
}

// topics returns the distinct topics the task writes.
func (c *Config) topics() []string {
	if d := c.ddlTopic(); d != c.Topic {
		return []string{c.Topic, d}
	}
	return []string{c.Topic}
}

// legalTopic reports whether t is a legal Kafka topic name: 1-249 of
// a-z A-Z 0-9 . _ - (Kafka's org.apache.kafka.common.internals.Topic), and
// not "." or "..".
func legalTopic(t string) bool {
	if len(t) == 0 || len(t) > 249 || t == "." || t == ".." {
		return false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// Validate reports every problem at once as *config.FieldError values
// joined with errors.Join, each naming its field and the fix. Zero fields
// are valid: they mean the default.
func (c *Config) Validate() error {
	var errs []error
	add := func(e error) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if len(c.Brokers) == 0 {
		add(config.Errorf("brokers", "list at least one broker as host:port", "is required"))
	}
	for i, b := range c.Brokers {
		add(validateBroker(fmt.Sprintf("brokers[%d]", i), b))
	}
	if c.Topic == "" {
		add(config.Errorf("topic", "name the topic that receives the changes", "is required"))
	} else {
		add(validateTopic("topic", c.Topic))
	}
	if c.DDLTopic != "" {
		add(validateTopic("ddl_topic", c.DDLTopic))
	}
	switch strings.ToLower(c.Compression) {
	case "", "lz4", "snappy", "zstd", "gzip", "none":
	default:
		add(config.Errorf("compression", `use "lz4", "snappy", "zstd", "gzip" or "none"`, "%q is not a compression codec", c.Compression))
	}
	switch c.Acks {
	case "", "all", "-1", "1", "0":
	default:
		add(config.Errorf("acks", `use "all" (safe), "1" or "0"`, "%q is not an acks setting", c.Acks))
	}
	switch c.Partitioning {
	case "", PolicyPartition0, PolicyTable, PolicyPrimaryKey:
	default:
		add(config.Errorf("partitioning", `use "partition0", "table" or "primary_key"`, "%q is not a partition policy", c.Partitioning))
	}
	if c.Partitions < 0 {
		add(config.Errorf("partitions", "use a positive count, or 0 for the broker's default", "%d is negative", c.Partitions))
	} else if c.Partitions > 0 && !c.CreateTopics {
		add(config.Errorf("partitions", "set create_topics: true, or remove partitions and create the topic yourself", "is only used when create_topics creates a topic"))
	}
	if c.ReplicationFactor < 0 {
		add(config.Errorf("replication_factor", "use a positive count, or 0 for the broker's default", "%d is negative", c.ReplicationFactor))
	} else if c.ReplicationFactor > 0 && !c.CreateTopics {
		add(config.Errorf("replication_factor", "set create_topics: true, or remove replication_factor", "is only used when create_topics creates a topic"))
	}
	errs = append(errs, c.validateSizes()...)
	if c.Linger < 0 || c.Linger > time.Minute {
		add(config.Errorf("linger", `use a duration from 0 to 1m, such as "5ms"`, "%s is out of range", c.Linger))
	}
	for _, e := range c.SASL.validate() {
		add(config.Prefix("sasl", e))
	}
	for _, e := range c.TLS.validate() {
		add(config.Prefix("tls", e))
	}
	return errors.Join(errs...)
}

func (c *Config) validateSizes() []error {
	var errs []error
	d := c.WithDefaults()
	if c.MaxRecordBytes != 0 && (c.MaxRecordBytes < 1024 || c.MaxRecordBytes > maxRecordBytesLimit) {
		errs = append(errs, config.Errorf("max_record_bytes", fmt.Sprintf("use a size from 1024 to %d bytes, or 0 for 10 MiB", maxRecordBytesLimit), "%d is out of range", c.MaxRecordBytes))
	}
	if c.BatchBytes != 0 && (c.BatchBytes < d.MaxRecordBytes || c.BatchBytes > maxRecordBytesLimit) {
		errs = append(errs, config.Errorf("batch_bytes", fmt.Sprintf("use at least max_record_bytes (%d), at most %d, or 0 for max_record_bytes: a record must fit in one batch", d.MaxRecordBytes, maxRecordBytesLimit), "%d is out of range", c.BatchBytes))
	}
	if c.MaxBufferedRecords < 0 {
		errs = append(errs, config.Errorf("max_buffered_records", "use a positive count, or 0 for 10000", "%d is negative", c.MaxBufferedRecords))
	}
	if c.MaxBufferedBytes != 0 && c.MaxBufferedBytes < d.MaxRecordBytes {
		errs = append(errs, config.Errorf("max_buffered_bytes", fmt.Sprintf("use at least max_record_bytes (%d), or 0 for 256 MiB", d.MaxRecordBytes), "%d cannot hold the largest record", c.MaxBufferedBytes))
	}
	return errs
}

func validateBroker(field, b string) error {
	host, port, err := net.SplitHostPort(b)
	if err != nil || host == "" {
		return config.Errorf(field, "write it as host:port, such as kafka-1:9092", "%q is not host:port", b)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return config.Errorf(field, "use a TCP port between 1 and 65535", "%q has no valid port", b)
	}
	return nil
}

func validateTopic(field, t string) error {
	if !legalTopic(t) {
		return config.Errorf(field, "use 1-249 letters, digits, '.', '_' or '-'", "%q is not a valid Kafka topic name", t)
	}
	return nil
}

func (s *SASLConfig) validate() []error {
	var errs []error
	switch strings.ToUpper(s.Mechanism) {
	case "":
		if s.User != "" || !s.Password.IsZero() || s.PasswordEnv != "" {
			errs = append(errs, config.Errorf("mechanism", `set "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512", or remove the sasl section`, "is required when a user or password is set"))
		}
		return errs
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
	default:
		errs = append(errs, config.Errorf("mechanism", `use "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"`, "%q is not a supported SASL mechanism", s.Mechanism))
	}
	if s.User == "" {
		errs = append(errs, config.Errorf("user", "set the SASL user name", "is required with a SASL mechanism"))
	}
	if s.Password.IsZero() && s.PasswordEnv == "" {
		errs = append(errs, config.Errorf("password", "set password, or password_env naming an environment variable that holds it", "is required with a SASL mechanism"))
	}
	return errs
}

func (t *TLSConfig) validate() []error {
	var errs []error
	if !t.Enabled {
		for _, f := range []struct {
			name string
			set  bool
		}{{"ca_file", t.CAFile != ""}, {"cert_file", t.CertFile != ""}, {"key_file", t.KeyFile != ""},
			{"insecure_skip_verify", t.InsecureSkipVerify}, {"server_name", t.ServerName != ""}} {
			if f.set {
				errs = append(errs, config.Errorf(f.name, "set tls.enabled: true to use it, or remove it", "has no effect without TLS"))
			}
		}
		return errs
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		errs = append(errs, config.Errorf("cert_file", "set both cert_file and key_file for a client certificate, or neither", "cert_file and key_file go together"))
	}
	return errs
}
