// Package kafka connects a task to its Kafka destination. It builds the
// franz-go producer from a Config (SASL, TLS, compression, acks,
// backpressure limits), checks or creates the topics, sizes record batches
// to each topic's max.message.bytes, and routes every event to a topic and
// partition by the task's partition policy, hashing like Java's
// String.hashCode so that partitions match what Java tools compute.
//
// The package knows nothing of message formats: the pipeline encodes, asks
// a Router where the record goes, and produces with the *kgo.Client that
// NewClient returns. docs/kafka.md is the user-facing reference.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// pingTimeout bounds the connection check when ctx has no deadline.
const pingTimeout = 30 * time.Second

// NewClient validates c, connects to the brokers, authenticates, checks (or,
// with c.CreateTopics, creates) the topics and returns an idempotent
// producer ready for Produce. Records must carry their partition (see
// Router): the client uses kgo.ManualPartitioner. The caller closes the
// client.
//
// Connection and authentication failures are returned at once, naming the
// brokers and, for SASL, the mechanism and user.
func NewClient(ctx context.Context, c Config, log *slog.Logger) (*kgo.Client, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.WithDefaults()
	limits := newBatchLimits(c)
	opts, err := c.options(log, limits)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	if err := ping(ctx, cl, c); err != nil {
		cl.Close()
		return nil, err
	}
	infos, err := EnsureTopics(ctx, cl, c, c.topics()...)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka %s: %w", strings.Join(c.Brokers, ","), err)
	}
	limits.set(infos, c, log)
	for _, ti := range infos {
		log.Info("kafka topic ready", "topic", ti.Name, "partitions", ti.Partitions,
			"max_message_bytes", ti.MaxMessageBytes, "created", ti.Created)
	}
	return cl, nil
}

// options translates c (with defaults applied) into kgo options.
func (c *Config) options(log *slog.Logger, limits *batchLimits) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.WithLogger(kgoLogger{log}),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytesFn(limits.forTopic),
		kgo.BrokerMaxWriteBytes(int32(max(100<<20, c.BatchBytes+recordFraming+64<<10))),
		kgo.MaxBufferedRecords(c.MaxBufferedRecords),
		kgo.MaxBufferedBytes(c.MaxBufferedBytes),
		kgo.ProducerLinger(c.Linger),
		kgo.ProducerOnDataLossDetected(func(topic string, partition int32) {
			log.Error("kafka reports data loss: records acknowledged earlier are gone from the partition (unclean leader election?)",
				"topic", topic, "partition", partition)
		}),
	}
	switch c.Compression {
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	}
	switch c.Acks {
	case "all":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks())) // idempotent by default
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	}
	if c.TLS.Enabled {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.SASL.Mechanism != "" {
		m, err := c.SASL.mechanism()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
		if c.SASL.Mechanism == SASLPlain && !c.TLS.Enabled {
			log.Warn("SASL PLAIN without TLS sends the password in the clear; enable destination.tls or use SCRAM")
		}
	}
	return opts, nil
}

// mechanism returns the franz-go SASL mechanism, resolving PasswordEnv.
func (s *SASLConfig) mechanism() (sasl.Mechanism, error) {
	pass := s.Password.Reveal()
	if pass == "" && s.PasswordEnv != "" {
		pass = os.Getenv(s.PasswordEnv)
		if pass == "" {
			return nil, fmt.Errorf("sasl.password_env: environment variable %s is empty or unset", s.PasswordEnv)
		}
	}
	switch s.Mechanism {
	case SASLPlain:
		return plain.Auth{User: s.User, Pass: pass}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: s.User, Pass: pass}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: s.User, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl.mechanism %q is not supported", s.Mechanism)
}

// config builds the crypto/tls configuration, reading the PEM files.
func (t *TLSConfig) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificates in it", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ping checks that a broker answers and that authentication succeeds, and
// turns failures into errors that say what to check.
func ping(ctx context.Context, cl *kgo.Client, c Config) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	err := cl.Ping(ctx)
	if err == nil {
		return nil
	}
	brokers := strings.Join(c.Brokers, ",")
	who := ""
	if c.SASL.Mechanism != "" {
		who = fmt.Sprintf(" as %q with SASL %s", c.SASL.User, c.SASL.Mechanism)
	}
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return fmt.Errorf("kafka %s: authentication%s failed: check destination.sasl.user and password: %w", brokers, who, err)
	case errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kerr.IllegalSaslState):
		return fmt.Errorf("kafka %s: the listener does not accept SASL %s: use a mechanism it enables, or the listener that matches your settings: %w", brokers, c.SASL.Mechanism, err)
	case who != "" && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return fmt.Errorf("kafka %s: the broker closed the connection while authenticating%s: check destination.sasl.user, password and mechanism, and that this listener uses SASL: %w", brokers, who, err)
	case ctx.Err() != nil:
		return fmt.Errorf("kafka %s: no broker answered within the timeout%s: check the addresses, that the brokers run and are reachable from this host, and that the listener's protocol matches destination.tls and destination.sasl: %w", brokers, who, err)
	}
	return fmt.Errorf("kafka %s: cannot connect%s: check the addresses, that the brokers run and are reachable from this host, and that the listener's protocol matches destination.tls and destination.sasl: %w", brokers, who, err)
}
