// Package secret holds String, a string type for passwords and tokens that
// redacts itself wherever it could be printed: fmt verbs, JSON and slog. Only
// Reveal gives the plain text, so every use of a secret is greppable.
package secret

import (
	"encoding/json"
	"log/slog"
)

// String is a secret text. The zero value is the empty secret.
type String struct{ s string }

// New wraps a plain text.
func New(s string) String { return String{s} }

const redacted = "[redacted]"

// Reveal returns the plain text. Call it only where the secret is handed to
// the system that needs it (a driver, an authenticator).
func (s String) Reveal() string { return s.s }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.s == "" }

// String implements fmt.Stringer with a redaction.
func (s String) String() string {
	if s.s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer with a redaction.
func (s String) GoString() string { return s.String() }

// LogValue implements slog.LogValuer with a redaction.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes the redaction, never the secret.
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a plain text.
func (s *String) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.s) }

// MarshalYAML writes the redaction, never the secret.
func (s String) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalYAML reads a plain text (gopkg.in/yaml.v3 calls this with a
// decoding function).
func (s *String) UnmarshalYAML(unmarshal func(any) error) error { return unmarshal(&s.s) }
