// Package cdc defines the change-event model that travels from the source to
// the sink: Event, Op, Row, Value, Table, Column and Position. Every source
// produces these types and every format consumes them; nothing else crosses
// package boundaries on the data path. The package imports nothing internal.
package cdc

import "time"

// Op is the kind of an Event.
type Op uint8

const (
	// Insert is a row written by INSERT (After is set).
	Insert Op = iota + 1
	// Update is a row changed by UPDATE (Before and After are set).
	Update
	// Delete is a row removed by DELETE (Before is set).
	Delete
	// Read is a row read by the full-data (snapshot) stage (After is set).
	Read
	// DDL is a schema change statement (DDL is set; Table may be nil for
	// statements that do not name one table, such as CREATE DATABASE).
	DDL
	// Commit marks the end of a source transaction. It carries no row; the
	// pipeline uses its Pos as a safe checkpoint once everything before it
	// has been acknowledged by the destination.
	Commit
)

// String returns the upper-case name of the operation.
func (o Op) String() string {
	switch o {
	case Insert:
		return "INSERT"
	case Update:
		return "UPDATE"
	case Delete:
		return "DELETE"
	case Read:
		return "READ"
	case DDL:
		return "DDL"
	case Commit:
		return "COMMIT"
	}
	return "UNKNOWN"
}

// Event is one change to one row, one DDL statement, or a transaction end, as
// it travels from source to sink. Events are produced by one goroutine and
// must not be modified after they are handed on.
type Event struct {
	Op     Op
	Table  *Table // schema in effect when the row was written; shared and immutable
	Before Row    // Update, Delete
	After  Row    // Insert, Update, Read
	// Database is the schema name for DDL events (Table may be nil then).
	// For row events it equals Table.Schema.
	Database string
	DDL      string   // Op == DDL: the statement text as the source wrote it
	Pos      Position // where this event sits in the source's change log
	// Commit is the source time of the change (binlog event timestamp,
	// second precision; snapshot read time for Read events).
	Commit time.Time
	// ServerID is the source server that wrote the event (0 for Read).
	ServerID uint32
	// TxSeq numbers rows within their transaction, starting at 0.
	TxSeq uint64
}

// Schema returns the database name the event belongs to.
func (e *Event) Schema() string {
	if e.Table != nil {
		return e.Table.Schema
	}
	return e.Database
}

// Row is one row image, in Table.Columns order. A Row never carries names.
type Row []Value
