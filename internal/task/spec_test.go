package task

import (
	"strings"
	"testing"
)

const valid = `name: t1
source: {host: 127.0.0.1, port: 3307, user: dts, password: hunter2}
destination: {brokers: ["127.0.0.1:9092"], topic: out}
objects: {databases: [shop]}
`

func TestDecodeDefaults(t *testing.T) {
	s, err := Decode(strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	if s.Start.From != StartCurrent || s.Checkpoint.Dir != "./dts-data" || s.Checkpoint.Interval != "1s" || s.Source.TLS != "disabled" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if s.Source.Password.Reveal() != "hunter2" {
		t.Error("password lost")
	}
}

func TestPasswordEnv(t *testing.T) {
	t.Setenv("DTS_TEST_PW", "from-env")
	s, err := Decode(strings.NewReader(strings.Replace(valid, "password: hunter2", "password_env: DTS_TEST_PW", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Source.Password.Reveal() != "from-env" {
		t.Errorf("password_env not used")
	}
}

// TestValidation checks that each mistake is reported with its full field
// path and a fix, and that all problems are reported at once.
func TestValidation(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", valid + "colour: blue\n", []string{"field colour not found", "docs/task-file.md"}},
		{"empty", "", []string{"empty"}},
		{"bad name", strings.Replace(valid, "name: t1", "name: 'bad name!'", 1), []string{"name:", "letters"}},
		{"port and user", strings.Replace(valid, "port: 3307, user: dts", "port: 70000", 1),
			[]string{"source.port: 70000 is not a valid port", "source.user: is required"}},
		{"tls", strings.Replace(valid, "password: hunter2", "password: x, tls: maybe", 1), []string{"source.tls", "verify_ca"}},
		{"zone", strings.Replace(valid, "password: hunter2", "password: x, time_zone: Mars/Base", 1), []string{"source.time_zone", "IANA"}},
		{"objects", strings.Replace(valid, "databases: [shop]", "tables: [orders]", 1), []string{"objects.tables[0]", "database.table"}},
		{"start", valid + "start: {from: position, position: nofile}\n", []string{"start.position", "file:offset"}},
		{"start gtid", valid + "start: {from: gtid}\n", []string{"start.gtid_set", "is required"}},
		{"start mode", valid + "start: {from: yesterday}\n", []string{"start.from", `"earliest"`}},
		{"interval", valid + "checkpoint: {interval: often}\n", []string{"checkpoint.interval", "duration"}},
		{"format", valid + "format: {kind: xml}\n", []string{"format.kind", "canal_json"}},
		{"brokers", strings.Replace(valid, `brokers: ["127.0.0.1:9092"], `, "", 1), []string{"destination.brokers"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(c.yaml))
			if err == nil {
				t.Fatalf("no error, want %v", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}
