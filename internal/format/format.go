// Package format turns change events into Kafka message values. It owns the
// Encoder interface that every format implements, the optional KeyEncoder,
// the Config that a task file's format section decodes into, and the New
// switch that picks a format (no registry). Each format lives in its own
// sub-package (canaljson) and imports only cdc and config; this package does
// not choose topics, partitions or record keys for formats without their own
// key (the kafka package does).
package format

import (
	"fmt"

	"github.com/opendts/opendts/internal/cdc"
	"github.com/opendts/opendts/internal/config"
	"github.com/opendts/opendts/internal/format/canaljson"
)

// Encoder renders one row or DDL event as a message value. It is never
// called for cdc.Commit events. Implementations keep per-encoder state
// (message ids, cached table headers) and are used by one goroutine.
type Encoder interface {
	// AppendValue appends the message value for ev to dst and returns the
	// extended slice. On error dst is returned unchanged.
	AppendValue(dst []byte, ev *cdc.Event) ([]byte, error)
}

// KeyEncoder is implemented by formats whose messages carry their own key
// (Debezium). Callers find it by type assertion on an Encoder; Canal JSON
// does not implement it (its record key is chosen by the kafka package).
type KeyEncoder interface {
	// AppendKey appends the message key for ev to dst and returns the
	// extended slice.
	AppendKey(dst []byte, ev *cdc.Event) ([]byte, error)
}

// Kinds of format. Later: "dts_avro", "debezium_json", "debezium_avro".
const (
	// CanalJSON is Canal JSON as Alibaba Cloud DTS writes it (the default).
	CanalJSON = "canal_json"
)

// validKinds is the fix shown for an unknown kind; keep it in step with New.
const validKinds = `use "canal_json" (the default)`

// Config chooses the format and its options: the format section of a task.
type Config struct {
	// Kind is the format; default "canal_json".
	Kind string `yaml:"kind" json:"kind,omitempty"`
	// CanalJSON holds the options of the Canal JSON format; see
	// docs/formats/canal-json.md.
	CanalJSON canaljson.Options `yaml:"canal_json" json:"canal_json"`
}

// Validate reports every problem as a *config.FieldError ("kind",
// "canal_json.binary_encoding"), joined with errors.Join.
func (c *Config) Validate() error {
	switch c.Kind {
	case "", CanalJSON:
		return config.Prefix("canal_json", c.CanalJSON.Validate())
	}
	return config.Errorf("kind", validKinds, "%q is not a known format", c.Kind)
}

// New validates c and returns the encoder it names.
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
