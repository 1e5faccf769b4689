package canaljson

import (
	"encoding/json"
	"fmt"
)

// Message is a Canal JSON message as a consumer reads it. Decode is for
// tools that read topics back (dts verify, tests); it is not on the data path.
type Message struct {
	Data     []map[string]*string `json:"data"`
	Old      []map[string]*string `json:"old"`
	Database string               `json:"database"`
	Table    string               `json:"table"`
	Type     string               `json:"type"`
	IsDDL    bool                 `json:"isDdl"`
	PKNames  []string             `json:"pkNames"`
	SQL      string               `json:"sql"`
	ES       int64                `json:"es"`
	TS       int64                `json:"ts"`
	ID       uint64               `json:"id"`
}

// Decode parses one message value.
func Decode(value []byte) (Message, error) {
	var m Message
	if err := json.Unmarshal(value, &m); err != nil {
		return m, fmt.Errorf("not a Canal JSON message: %w", err)
	}
	if !m.IsDDL && m.Type == "" {
		return m, fmt.Errorf("not a Canal JSON message: no type")
	}
	return m, nil
}
