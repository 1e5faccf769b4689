package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/opendts/opendts/internal/testkit"
)

// TestIntegrationSecureConnections runs a task that reads the source over
// TLS with certificate verification and writes to Kafka over SASL_SSL with
// SCRAM-SHA-512, then checks the change arrived and that neither password
// appears in anything dts printed.
func TestIntegrationSecureConnections(t *testing.T) {
	db := testkit.MariaDB(t)
	brokers := testkit.KafkaBrokers(t)
	tlsBrokers, ca := os.Getenv("KAFKA_TLS_BROKERS"), os.Getenv("KAFKA_TLS_CA")
	srcCA := os.Getenv("MARIADB_TLS_CA")
	if tlsBrokers == "" || ca == "" || srcCA == "" {
		t.Fatal("KAFKA_TLS_BROKERS, KAFKA_TLS_CA and MARIADB_TLS_CA must be set (eval \"$(scripts/infra.sh env)\")")
	}
	bin, err := buildDTS()
	if err != nil {
		t.Fatal(err)
	}
	database := db.TempDatabase("secure")
	user, pass := "tls_"+testkit.RandomSuffix(), "Src-"+testkit.RandomSuffix()+"-pw"
	db.Exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s' REQUIRE SSL", user, pass),
		fmt.Sprintf("GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '%s'@'%%'", user))
	t.Cleanup(func() {
		if c, err := db.Connect(); err == nil {
			c.Execute(fmt.Sprintf("DROP USER '%s'@'%%'", user))
			c.Close()
		}
	})
	db.Exec("CREATE TABLE " + database + ".t (id INT PRIMARY KEY, v VARCHAR(20))")
	topic := "secure_" + testkit.RandomSuffix()
	dir := t.TempDir()
	t.Setenv("DTS_TEST_SASL_PASSWORD", "alice-secret")
	spec := fmt.Sprintf(`name: %s
source:
  host: %s
  port: %d
  user: %s
  password: %s
  tls: verify_ca
  ca_file: %s
destination:
  brokers: [%q]
  topic: %s
  create_topics: true
  sasl: {mechanism: SCRAM-SHA-512, user: alice, password_env: DTS_TEST_SASL_PASSWORD}
  tls: {enabled: true, ca_file: %s}
objects:
  databases: [%s]
checkpoint:
  dir: %s
`, topic, db.Host, db.Port, user, pass, srcCA, tlsBrokers, topic, ca, database, filepath.Join(dir, "state"))
	taskFile := filepath.Join(dir, "task.yaml")
	if err := os.WriteFile(taskFile, []byte(spec), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd := startDTS(t, bin, taskFile, logs)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "binlog reader started") {
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			cmd.Process.Kill()
			t.Fatalf("dts did not start; log:\n%s", tail(logs.String(), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
	db.Exec("INSERT INTO " + database + ".t VALUES (1, 'over tls')")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = testkit.Stream(ctx, brokers, topic, func(r *kgo.Record) bool {
		return strings.Contains(string(r.Value), `"v":"over tls"`)
	})
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if err != nil {
		t.Fatalf("the row did not arrive: %v; log:\n%s", err, tail(logs.String(), 30))
	}
	for _, secret := range []string{pass, "alice-secret"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("dts printed a password")
		}
	}
}
