package format

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/format/canaljson"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		c     Config
		field string // "" when valid
		want  string
	}{
		{"default", Config{}, "", ""},
		{"canal json", Config{Kind: CanalJSON, CanalJSON: canaljson.Options{BinaryEncoding: "hex"}}, "", ""},
		{"unknown kind", Config{Kind: "xml"}, "kind", `"xml" is not a known format; use "canal_json"`},
		{"bad option", Config{CanalJSON: canaljson.Options{BinaryEncoding: "utf8"}}, "canal_json.binary_encoding", `"base64" or "hex"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.c.Validate()
			enc, newErr := New(c.c)
			if c.field == "" {
				if err != nil || newErr != nil || enc == nil {
					t.Fatalf("Validate = %v, New = %v, %v", err, enc, newErr)
				}
				return
			}
			var fe *config.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate = %v, want field %s and %q", err, c.field, c.want)
			}
			if enc != nil || newErr == nil {
				t.Errorf("New = %v, %v; want an error", enc, newErr)
			}
		})
	}
}

// TestNewCanalJSON checks that New passes the options through.
func TestNewCanalJSON(t *testing.T) {
	enc, err := New(Config{CanalJSON: canaljson.Options{OmitNullMembers: true, Now: func() time.Time { return time.UnixMilli(5) }}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := enc.(KeyEncoder); ok {
		t.Error("Canal JSON claims to encode keys")
	}
	out, err := enc.AppendValue(nil, &cdc.Event{Op: cdc.DDL, Database: "d", DDL: "DROP DATABASE d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"database":"d","es":0,"id":1,"isDdl":true,"sql":"DROP DATABASE d","table":"","ts":5,"type":"DDL"}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}
