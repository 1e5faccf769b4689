package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/secret"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func cluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, ctx context.Context, c Config) *kgo.Client {
	t.Helper()
	cl, err := NewClient(ctx, c, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestProduceRoutedAcksAll creates the topics, routes rows by primary key,
// produces with acks=all and reads every record back from its partition.
func TestProduceRoutedAcksAll(t *testing.T) {
	ctx := testCtx(t)
	c := Config{Brokers: cluster(t), Topic: "shop", DDLTopic: "shop_ddl", Partitioning: PolicyPrimaryKey,
		CreateTopics: true, Partitions: 4, Compression: "zstd", Linger: time.Millisecond}
	cl := newClient(t, ctx, c)
	if got := cl.OptValue(kgo.RequiredAcks); got != kgo.AllISRAcks() {
		t.Errorf("acks = %v, want all", got)
	}
	if cl.OptValue(kgo.DisableIdempotentWrite) == true {
		t.Error("idempotence is off")
	}
	r, err := NewRouter(ctx, cl, c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Partitions("shop") != 4 || r.Partitions("shop_ddl") != 4 {
		t.Fatalf("partitions = %d, %d", r.Partitions("shop"), r.Partitions("shop_ddl"))
	}
	tbl := &cdc.Table{Schema: "s", Name: "t", Columns: []cdc.Column{{Name: "id", Type: cdc.Int}}, PK: []int{0}}
	want := map[string]int32{}
	var recs []*kgo.Record
	for id := range 50 {
		ev := &cdc.Event{Op: cdc.Insert, Table: tbl, After: cdc.Row{cdc.IntValue(int64(id))}}
		topic, p := r.Route(ev)
		key := fmt.Sprint(id)
		want[key] = Partition(PolicyPrimaryKey, key, 4)
		if p != want[key] {
			t.Fatalf("Route(id=%d) = %d, Partition says %d", id, p, want[key])
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: []byte(key), Value: []byte("v")})
	}
	ddlTopic, ddlPart := r.Route(&cdc.Event{Op: cdc.DDL, Table: tbl, DDL: "ALTER TABLE t ADD c INT"})
	recs = append(recs, &kgo.Record{Topic: ddlTopic, Partition: ddlPart, Key: []byte("ddl")})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := consume(t, ctx, c.Brokers, len(recs), "shop", "shop_ddl")
	used := map[int32]bool{}
	for _, rec := range got {
		if rec.Topic == "shop_ddl" {
			if rec.Partition != 0 {
				t.Errorf("DDL in partition %d, want 0", rec.Partition)
			}
			continue
		}
		used[rec.Partition] = true
		if p := want[string(rec.Key)]; p != rec.Partition {
			t.Errorf("key %s in partition %d, want %d", rec.Key, rec.Partition, p)
		}
	}
	if len(used) != 4 {
		t.Errorf("50 keys used partitions %v, want all 4", used)
	}

	// The created topic takes records of max_record_bytes.
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("shop", nil)
	for _, cf := range rc.Configs {
		if cf.Key == "max.message.bytes" && (cf.Value == nil || *cf.Value != fmt.Sprint(DefaultMaxRecordBytes+recordFraming)) {
			t.Errorf("max.message.bytes = %v", cf.MaybeValue())
		}
	}
}

func consume(t *testing.T, ctx context.Context, brokers []string, n int, topics ...string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func TestAcksOneAndZeroDisableIdempotence(t *testing.T) {
	ctx := testCtx(t)
	brokers := cluster(t, kfake.SeedTopics(1, "t"))
	for _, acks := range []string{"1", "0"} {
		cl := newClient(t, ctx, Config{Brokers: brokers, Topic: "t", Acks: acks})
		if cl.OptValue(kgo.DisableIdempotentWrite) != true {
			t.Errorf("acks=%s: idempotence still on", acks)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
			t.Errorf("acks=%s: %v", acks, err)
		}
	}
}

func TestMissingTopic(t *testing.T) {
	ctx := testCtx(t)
	_, err := NewClient(ctx, Config{Brokers: cluster(t), Topic: "absent"}, quiet())
	if err == nil || !strings.Contains(err.Error(), "topic absent does not exist") || !strings.Contains(err.Error(), "create_topics") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnsureTopicsExisting(t *testing.T) {
	ctx := testCtx(t)
	brokers := cluster(t, kfake.SeedTopics(6, "six"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	infos, err := EnsureTopics(ctx, cl, Config{CreateTopics: true, Partitions: 2}, "six", "new")
	if err != nil {
		t.Fatal(err)
	}
	if infos[0] != (TopicInfo{Name: "six", Partitions: 6, MaxMessageBytes: 1048588}) {
		t.Errorf("six = %+v", infos[0])
	}
	if infos[1] != (TopicInfo{Name: "new", Partitions: 2, MaxMessageBytes: DefaultMaxRecordBytes + recordFraming, Created: true}) {
		t.Errorf("new = %+v", infos[1])
	}
	// Idempotent: a second call creates nothing.
	infos, err = EnsureTopics(ctx, cl, Config{CreateTopics: true, Partitions: 2}, "new")
	if err != nil || infos[0].Created {
		t.Errorf("second call: %+v, %v", infos, err)
	}
}

// TestRecordSizePolicy checks that batches respect each topic's
// max.message.bytes, and that a record too large for its topic fails with
// MESSAGE_TOO_LARGE instead of being dropped.
func TestRecordSizePolicy(t *testing.T) {
	ctx := testCtx(t)
	brokers := cluster(t, kfake.SeedTopics(1, "small"))
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: kadm.StringPtr("20000")}}, "small"); err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, ctx, Config{Brokers: brokers, Topic: "small"})
	if got := cl.OptValue(kgo.ProducerBatchMaxBytesFn).(func(string) int32)("small"); got != 20000 {
		t.Errorf("batch cap for small = %d, want the topic's 20000", got)
	}
	ok := make([]*kgo.Record, 20)
	for i := range ok {
		ok[i] = &kgo.Record{Topic: "small", Value: make([]byte, 5000)}
	}
	if err := cl.ProduceSync(ctx, ok...).FirstErr(); err != nil {
		t.Fatalf("records under the limit: %v", err)
	}
	err = cl.ProduceSync(ctx, &kgo.Record{Topic: "small", Value: make([]byte, 30000)}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("oversized record: err = %v, want MESSAGE_TOO_LARGE", err)
	}
}

func TestSASL(t *testing.T) {
	brokers := cluster(t, kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "admin", "admin-secret"),
		kfake.Superuser("SCRAM-SHA-256", "alice", "alice-secret"),
		kfake.Superuser("SCRAM-SHA-512", "alice", "alice-secret"),
		kfake.SeedTopics(1, "t"))
	for _, c := range []struct {
		mech, user, pass string
		ok               bool
	}{
		{SASLPlain, "admin", "admin-secret", true},
		{"scram-sha-256", "alice", "alice-secret", true},
		{SASLScramSHA512, "alice", "alice-secret", true},
		{SASLPlain, "admin", "wrong", false},
		{SASLScramSHA256, "alice", "wrong", false},
		{SASLScramSHA512, "mallory", "x", false},
	} {
		t.Run(c.mech+"/"+c.user+"/"+c.pass, func(t *testing.T) {
			ctx := testCtx(t)
			cfg := Config{Brokers: brokers, Topic: "t", SASL: SASLConfig{Mechanism: c.mech, User: c.user, Password: secret.New(c.pass)}}
			cl, err := NewClient(ctx, cfg, quiet())
			if !c.ok {
				if err == nil {
					cl.Close()
					t.Fatal("connected with bad credentials")
				}
				msg := err.Error()
				if !strings.Contains(msg, brokers[0]) || !strings.Contains(msg, fmt.Sprintf("%q", c.user)) || strings.Contains(msg, c.pass+"\"") {
					t.Errorf("error does not name broker and user, or shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSASLPasswordEnv(t *testing.T) {
	brokers := cluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "alice", "alice-secret"), kfake.SeedTopics(1, "t"))
	t.Setenv("OPENDTS_TEST_KAFKA_PASSWORD", "alice-secret")
	cfg := Config{Brokers: brokers, Topic: "t", SASL: SASLConfig{Mechanism: SASLScramSHA256, User: "alice", PasswordEnv: "OPENDTS_TEST_KAFKA_PASSWORD"}}
	newClient(t, testCtx(t), cfg)
	cfg.SASL.PasswordEnv = "OPENDTS_TEST_KAFKA_UNSET"
	if _, err := NewClient(testCtx(t), cfg, quiet()); err == nil || !strings.Contains(err.Error(), "OPENDTS_TEST_KAFKA_UNSET") {
		t.Errorf("unset env: err = %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens here now
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = NewClient(ctx, Config{Brokers: []string{addr}, Topic: "t"}, quiet())
	if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "reachable") {
		t.Fatalf("err = %v", err)
	}
}

func TestInvalidConfig(t *testing.T) {
	_, err := NewClient(context.Background(), Config{Topic: "t"}, quiet())
	if err == nil || !strings.Contains(err.Error(), "brokers: is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	serverCert, caPEM := selfSigned(t)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	brokers := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{serverCert}}), kfake.SeedTopics(1, "t"))
	ctx := testCtx(t)
	cl := newClient(t, ctx, Config{Brokers: brokers, Topic: "t", TLS: TLSConfig{Enabled: true, CAFile: caFile}})
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// A CA that did not sign the broker's certificate is refused.
	_, otherCA := selfSigned(t)
	other := filepath.Join(dir, "other.pem")
	if err := os.WriteFile(other, otherCA, 0o600); err != nil {
		t.Fatal(err)
	}
	shortCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := NewClient(shortCtx, Config{Brokers: brokers, Topic: "t", TLS: TLSConfig{Enabled: true, CAFile: other}}, quiet()); err == nil {
		t.Error("connected with an untrusted certificate")
	}
	if _, err := NewClient(ctx, Config{Brokers: brokers, Topic: "t", TLS: TLSConfig{Enabled: true, CAFile: filepath.Join(dir, "none.pem")}}, quiet()); err == nil || !strings.Contains(err.Error(), "tls.ca_file") {
		t.Errorf("missing CA file: err = %v", err)
	}
}

// selfSigned makes a certificate for 127.0.0.1 that is its own CA.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
