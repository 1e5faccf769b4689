package kafka

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/secret"
	"github.com/opendts/opendts/internal/testkit"
)

// saslBrokers returns the SASL_PLAINTEXT listener of the test broker
// (scripts/kafka.sh): PLAIN admin/admin-secret, SCRAM-SHA-256 and -512
// alice/alice-secret. Under -short the test is skipped; otherwise an
// unreachable listener fails it.
func saslBrokers(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs Kafka's SASL listener (run without -short, via make test)")
	}
	addrs := os.Getenv("KAFKA_SASL_BROKERS")
	if addrs == "" {
		addrs = "127.0.0.1:9094"
	}
	brokers := strings.Split(addrs, ",")
	conn, err := net.DialTimeout("tcp", brokers[0], 5*time.Second)
	if err != nil {
		t.Fatalf("Kafka SASL listener at %s is not reachable (start it with `bash scripts/infra.sh up`): %v", brokers[0], err)
	}
	conn.Close()
	return brokers
}

func dropTopics(t *testing.T, cl *kgo.Client, topics ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		kadm.NewClient(cl).DeleteTopics(ctx, topics...)
	})
}

// TestIntegrationKafkaProduce creates a topic on the real broker, routes
// rows by primary key, produces with acks=all and checks that every record
// landed in the partition Partition computes.
func TestIntegrationKafkaProduce(t *testing.T) {
	brokers := testkit.KafkaBrokers(t)
	ctx := testCtx(t)
	topic := "opendts_kafka_" + testkit.RandomSuffix()
	c := Config{Brokers: brokers, Topic: topic, Partitioning: PolicyPrimaryKey, CreateTopics: true, Partitions: 3}
	cl := newClient(t, ctx, c)
	dropTopics(t, cl, topic)
	r, err := NewRouter(ctx, cl, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Partitions(topic); n != 3 {
		t.Fatalf("partitions = %d, want 3", n)
	}
	tbl := &cdc.Table{Schema: "shop", Name: "orders", Columns: []cdc.Column{{Name: "id", Type: cdc.VarChar}}, PK: []int{0}}
	keys := []string{"1", "42", "hello", "polygenelubricants", "订单", "😀"}
	var recs []*kgo.Record
	for _, k := range keys {
		tp, p := r.Route(&cdc.Event{Op: cdc.Insert, Table: tbl, After: cdc.Row{cdc.StringValue(k)}})
		recs = append(recs, &kgo.Record{Topic: tp, Partition: p, Key: []byte(k), Value: []byte("v")})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, rec := range consume(t, ctx, brokers, len(keys), topic) {
		if want := Partition(PolicyPrimaryKey, string(rec.Key), 3); rec.Partition != want {
			t.Errorf("key %q in partition %d, want %d", rec.Key, rec.Partition, want)
		}
	}
}

// TestIntegrationKafkaSASL connects to the real broker's SASL listener with
// each mechanism, produces, and checks that a wrong password is refused
// with an error that names the problem.
func TestIntegrationKafkaSASL(t *testing.T) {
	brokers := saslBrokers(t)
	for _, c := range []struct{ mech, user, pass string }{
		{SASLPlain, "admin", "admin-secret"},
		{SASLScramSHA256, "alice", "alice-secret"},
		{SASLScramSHA512, "alice", "alice-secret"},
	} {
		t.Run(c.mech, func(t *testing.T) {
			ctx := testCtx(t)
			topic := "opendts_sasl_" + testkit.RandomSuffix()
			cfg := Config{Brokers: brokers, Topic: topic, CreateTopics: true,
				SASL: SASLConfig{Mechanism: c.mech, User: c.user, Password: secret.New(c.pass)}}
			cl := newClient(t, ctx, cfg)
			dropTopics(t, cl, topic)
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}

			cfg.SASL.Password = secret.New("wrong-" + c.pass)
			_, err := NewClient(ctx, cfg, quiet())
			if err == nil {
				t.Fatal("connected with a wrong password")
			}
			if msg := err.Error(); !strings.Contains(msg, "authentication") || !strings.Contains(msg, c.user) || strings.Contains(msg, "wrong-") {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}
