package kafka

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/secret"
)

func valid() Config { return Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "shop"} }

// fields returns the Field of every FieldError in err, in order.
func fields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []string
	for _, e := range errs {
		var fe *config.FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *config.FieldError", e)
		}
		if fe.Fix == "" {
			t.Errorf("%s: no fix in %q", fe.Field, fe.Error())
		}
		out = append(out, fe.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(*Config)
		fields []string
	}{
		{"minimal", func(*Config) {}, nil},
		{"everything", func(c *Config) {
			c.Brokers = []string{"k1:9092", "[::1]:9093"}
			c.DDLTopic, c.ClientID = "shop_ddl", "x"
			c.Compression, c.Acks, c.Partitioning = "ZSTD", "1", PolicyPrimaryKey
			c.CreateTopics, c.Partitions, c.ReplicationFactor = true, 12, 3
			c.MaxRecordBytes, c.BatchBytes, c.Linger = 2<<20, 4<<20, 5*time.Millisecond
			c.MaxBufferedRecords, c.MaxBufferedBytes = 1000, 64<<20
			c.SASL = SASLConfig{Mechanism: "scram-sha-512", User: "alice", PasswordEnv: "P"}
			c.TLS = TLSConfig{Enabled: true, CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", ServerName: "k1"}
		}, nil},
		{"acks -1", func(c *Config) { c.Acks = "-1" }, nil},
		{"no brokers", func(c *Config) { c.Brokers = nil }, []string{"brokers"}},
		{"bad brokers", func(c *Config) { c.Brokers = []string{"k1", ":9092", "k1:0", "k1:x"} },
			[]string{"brokers[0]", "brokers[1]", "brokers[2]", "brokers[3]"}},
		{"no topic", func(c *Config) { c.Topic = "" }, []string{"topic"}},
		{"bad topics", func(c *Config) { c.Topic, c.DDLTopic = "a b", ".." }, []string{"topic", "ddl_topic"}},
		{"long topic", func(c *Config) { c.Topic = strings.Repeat("t", 250) }, []string{"topic"}},
		{"compression", func(c *Config) { c.Compression = "brotli" }, []string{"compression"}},
		{"acks", func(c *Config) { c.Acks = "2" }, []string{"acks"}},
		{"partitioning", func(c *Config) { c.Partitioning = "pk" }, []string{"partitioning"}},
		{"partitions without create", func(c *Config) { c.Partitions, c.ReplicationFactor = 3, 1 },
			[]string{"partitions", "replication_factor"}},
		{"negative partitions", func(c *Config) { c.CreateTopics, c.Partitions, c.ReplicationFactor = true, -1, -1 },
			[]string{"partitions", "replication_factor"}},
		{"sizes", func(c *Config) {
			c.MaxRecordBytes, c.BatchBytes, c.MaxBufferedRecords, c.MaxBufferedBytes = 100, 50, -1, 10
		}, []string{"max_record_bytes", "batch_bytes", "max_buffered_records", "max_buffered_bytes"}},
		{"batch smaller than default record", func(c *Config) { c.BatchBytes = 1 << 20 }, []string{"batch_bytes"}},
		{"buffer smaller than record", func(c *Config) { c.MaxRecordBytes, c.MaxBufferedBytes = 8<<20, 4<<20 }, []string{"max_buffered_bytes"}},
		{"huge record", func(c *Config) { c.MaxRecordBytes = 1 << 30 }, []string{"max_record_bytes"}},
		{"linger", func(c *Config) { c.Linger = -time.Second }, []string{"linger"}},
		{"sasl mechanism", func(c *Config) { c.SASL = SASLConfig{Mechanism: "GSSAPI", User: "u", Password: secret.New("p")} },
			[]string{"sasl.mechanism"}},
		{"sasl incomplete", func(c *Config) { c.SASL = SASLConfig{Mechanism: "PLAIN"} }, []string{"sasl.user", "sasl.password"}},
		{"sasl without mechanism", func(c *Config) { c.SASL = SASLConfig{User: "u"} }, []string{"sasl.mechanism"}},
		{"tls fields without tls", func(c *Config) { c.TLS = TLSConfig{CAFile: "ca.pem", InsecureSkipVerify: true} },
			[]string{"tls.ca_file", "tls.insecure_skip_verify"}},
		{"tls cert without key", func(c *Config) { c.TLS = TLSConfig{Enabled: true, CertFile: "c.pem"} }, []string{"tls.cert_file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid()
			c.edit(&cfg)
			if got := fields(t, cfg.Validate()); !slices.Equal(got, c.fields) {
				t.Errorf("fields = %v, want %v (err: %v)", got, c.fields, cfg.Validate())
			}
		})
	}
}

func TestValidatePrefixed(t *testing.T) {
	c := valid()
	c.SASL.Mechanism = "PLAIN"
	err := config.Prefix("destination", c.Validate())
	if got := err.Error(); !strings.Contains(got, "destination.sasl.user: is required") {
		t.Errorf("error = %q", got)
	}
}

func TestWithDefaults(t *testing.T) {
	d := valid().WithDefaults()
	want := Config{
		Brokers: []string{"127.0.0.1:9092"}, Topic: "shop", ClientID: "opendts", Compression: "lz4", Acks: "all",
		Partitioning: PolicyPartition0, MaxRecordBytes: 10 << 20, BatchBytes: 10 << 20,
		MaxBufferedRecords: 10000, MaxBufferedBytes: 256 << 20,
	}
	if !equalConfig(d, want) {
		t.Errorf("defaults = %+v\nwant       %+v", d, want)
	}
	big := Config{MaxRecordBytes: 300 << 20, Acks: "-1", SASL: SASLConfig{Mechanism: "plain"}}.WithDefaults()
	if big.MaxBufferedBytes != 300<<20 || big.BatchBytes != 300<<20 || big.Acks != "all" || big.SASL.Mechanism != "PLAIN" {
		t.Errorf("derived defaults = %+v", big)
	}
	if c := (Config{Topic: "a", DDLTopic: "a"}); !slices.Equal(c.topics(), []string{"a"}) {
		t.Errorf("topics = %v", c.topics())
	}
}

func equalConfig(a, b Config) bool {
	return slices.Equal(a.Brokers, b.Brokers) && a.Topic == b.Topic && a.DDLTopic == b.DDLTopic &&
		a.ClientID == b.ClientID && a.SASL == b.SASL && a.TLS == b.TLS && a.Compression == b.Compression &&
		a.Acks == b.Acks && a.Partitioning == b.Partitioning && a.Partitions == b.Partitions &&
		a.ReplicationFactor == b.ReplicationFactor && a.CreateTopics == b.CreateTopics &&
		a.MaxRecordBytes == b.MaxRecordBytes && a.BatchBytes == b.BatchBytes && a.Linger == b.Linger &&
		a.MaxBufferedRecords == b.MaxBufferedRecords && a.MaxBufferedBytes == b.MaxBufferedBytes
}

// TestYAML pins the field names of the task file and that secrets stay
// secret on the way out.
func TestYAML(t *testing.T) {
	src := `
brokers: ["k1:9092"]
topic: shop
ddl_topic: shop_ddl
client_id: dts-shop
sasl: {mechanism: SCRAM-SHA-256, user: alice, password: alice-secret}
tls: {enabled: true, ca_file: /etc/ca.pem, server_name: k1}
compression: zstd
acks: all
partitioning: primary_key
partitions: 6
replication_factor: 3
create_topics: true
max_record_bytes: 2097152
batch_bytes: 4194304
linger: 5ms
max_buffered_records: 5000
max_buffered_bytes: 67108864
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Linger != 5*time.Millisecond || c.SASL.Password.Reveal() != "alice-secret" || c.Partitions != 6 || c.MaxBufferedBytes != 64<<20 {
		t.Errorf("decoded %+v", c)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "alice-secret") {
		t.Errorf("password leaked:\n%s", out)
	}
}
