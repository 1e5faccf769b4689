// Package format turns change events into Kafka message values. It owns the
// Encoder interface that every format implements and the New switch that
// picks one; each format lives in its own sub-package and imports only cdc.
package format

import (
	"fmt"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/format/canaljson"
)

// Encoder renders one row or DDL event as a message value. It is never
// called for cdc.Commit events. Implementations are used by one goroutine.
type Encoder interface {
	// AppendValue appends the message value for ev to dst and returns the
	// extended slice.
	AppendValue(dst []byte, ev *cdc.Event) ([]byte, error)
}

// KeyEncoder is implemented by formats whose messages carry their own key.
type KeyEncoder interface {
	AppendKey(dst []byte, ev *cdc.Event) ([]byte, error)
}

// Kinds of format.
const (
	CanalJSON = "canal_json"
)

// Config chooses the format and its options.
type Config struct {
	// Kind is the format; default "canal_json".
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// CanalJSON holds the options of the Canal JSON format.
	CanalJSON canaljson.Options `yaml:"canal_json" json:"canal_json"`
}

// Validate reports problems as *config.FieldError.
func (c *Config) Validate() error {
	switch c.Kind {
	case "", CanalJSON:
		return config.Prefix("canal_json", c.CanalJSON.Validate())
	}
	return config.Errorf("kind", `use "canal_json"`, "%q is not a known format", c.Kind)
}

// New returns the encoder c names.
func New(c Config) (Encoder, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case "", CanalJSON:
		return canaljson.New(c.CanalJSON), nil
	}
	return nil, fmt.Errorf("format %q is not known", c.Kind)
}
