package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestNeverPrinted(t *testing.T) {
	s := New("hunter2")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "password", s, "struct", struct{ P String }{s})
	j, _ := json.Marshal(struct{ P String }{s})
	y, _ := yaml.Marshal(struct{ P String }{s})
	outs := []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), buf.String(), string(j), string(y)}
	for _, o := range outs {
		if strings.Contains(o, "hunter2") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}

func TestDecode(t *testing.T) {
	var v struct {
		P String `json:"p" yaml:"p"`
	}
	if err := yaml.Unmarshal([]byte("p: abc\n"), &v); err != nil || v.P.Reveal() != "abc" {
		t.Fatalf("yaml: %v %q", err, v.P.Reveal())
	}
	if err := json.Unmarshal([]byte(`{"p":"def"}`), &v); err != nil || v.P.Reveal() != "def" {
		t.Fatalf("json: %v %q", err, v.P.Reveal())
	}
}
