// Package store keeps a task's durable state in one bbolt file: the
// checkpoint (the source position a restarted task resumes from) and small
// named values that later stages need across restarts, such as snapshot
// chunk progress. Every write is one bbolt transaction, fsynced before it
// returns, so a crash leaves either the old or the new value, never a torn
// one. One process at a time may open a store.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/opendts/opendts/internal/cdc"
)

// ErrInUse is what Open's error matches (errors.Is) when another process
// holds the store.
var ErrInUse = errors.New("checkpoint store is in use by another dts process")

// inUseError names the store that is in use and says what to do.
type inUseError struct{ path string }

func (e *inUseError) Error() string {
	return fmt.Sprintf("checkpoint store %s is in use by another dts process; stop that process, or give this task another checkpoint.dir", e.path)
}

func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// lockTimeout is how long Open waits for another process to release the
// store, long enough to ride out a restart's overlap.
const lockTimeout = time.Second

// Buckets. Checkpoints maps task name to a checkpoint record; state holds
// one nested bucket per task name, mapping keys to values.
const (
	checkpointsBucket = "checkpoints"
	stateBucket       = "state"
)

// checkpointVersion is the version of the checkpoint record written now.
const checkpointVersion = 1

// checkpointRecord is how a checkpoint is persisted. Its JSON is pinned by
// a golden test: change it only with a new Version and a reader for the
// old one.
type checkpointRecord struct {
	Version  int          `json:"version"`
	Position cdc.Position `json:"position"`
	SavedAt  time.Time    `json:"saved_at"`
}

// DB is an open store. Its methods are safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	path string
	now  func() time.Time
}

// Open opens the store at path, creating the file if it is missing (its
// directory must exist). If another process has it open, Open fails after a
// second with an error that wraps ErrInUse.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &inUseError{path}
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint store %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{checkpointsBucket, stateBucket} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("initialize checkpoint store %s: %w", path, err)
	}
	return &DB{bolt: b, path: path, now: time.Now}, nil
}

// Close releases the store and its file lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close checkpoint store %s: %w", db.path, err)
	}
	return nil
}

// Path returns the file the store lives in.
func (db *DB) Path() string { return db.path }

// SaveCheckpoint persists p as task's checkpoint, replacing the previous
// one. It returns once the write is on disk.
func (db *DB) SaveCheckpoint(ctx context.Context, task string, p cdc.Position) error {
	if err := checkArgs(ctx, task); err != nil {
		return err
	}
	rec, err := json.Marshal(checkpointRecord{Version: checkpointVersion, Position: p, SavedAt: db.now().UTC()})
	if err != nil {
		return fmt.Errorf("encode checkpoint of task %s: %w", task, err)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(checkpointsBucket)).Put([]byte(task), rec)
	})
	if err != nil {
		return fmt.Errorf("save checkpoint of task %s: %w", task, err)
	}
	return nil
}

// LoadCheckpoint returns task's checkpoint, and false if it has none.
func (db *DB) LoadCheckpoint(ctx context.Context, task string) (cdc.Position, bool, error) {
	if err := checkArgs(ctx, task); err != nil {
		return cdc.Position{}, false, err
	}
	var rec checkpointRecord
	found := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(checkpointsBucket)).Get([]byte(task))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return cdc.Position{}, false, fmt.Errorf("load checkpoint of task %s from %s: %w", task, db.path, err)
	}
	if !found {
		return cdc.Position{}, false, nil
	}
	if rec.Version != checkpointVersion {
		return cdc.Position{}, false, fmt.Errorf("load checkpoint of task %s from %s: record version %d is not %d: it was written by another dts version", task, db.path, rec.Version, checkpointVersion)
	}
	return rec.Position, true, nil
}

// SaveState stores v under key for task, replacing any previous value. It
// is for small values (up to a few hundred KiB); it returns once the write
// is on disk.
func (db *DB) SaveState(ctx context.Context, task, key string, v []byte) error {
	if err := checkArgs(ctx, task); err != nil {
		return err
	}
	if key == "" {
		return errors.New("save state: empty key")
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket([]byte(stateBucket)).CreateBucketIfNotExists([]byte(task))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
	if err != nil {
		return fmt.Errorf("save state %s of task %s: %w", key, task, err)
	}
	return nil
}

// LoadState returns the value stored under key for task, and false if there
// is none. The slice is the caller's.
func (db *DB) LoadState(ctx context.Context, task, key string) ([]byte, bool, error) {
	if err := checkArgs(ctx, task); err != nil {
		return nil, false, err
	}
	var out []byte
	found := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(stateBucket)).Bucket([]byte(task))
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			out, found = append([]byte{}, v...), true // v is valid only inside the transaction
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("load state %s of task %s: %w", key, task, err)
	}
	return out, found, nil
}

// DeleteTask removes task's checkpoint and state, in one transaction.
// Deleting a task that has nothing stored is not an error.
func (db *DB) DeleteTask(ctx context.Context, task string) error {
	if err := checkArgs(ctx, task); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(checkpointsBucket)).Delete([]byte(task)); err != nil {
			return err
		}
		err := tx.Bucket([]byte(stateBucket)).DeleteBucket([]byte(task))
		if errors.Is(err, bolterrors.ErrBucketNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete task %s from %s: %w", task, db.path, err)
	}
	return nil
}

func checkArgs(ctx context.Context, task string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if task == "" {
		return errors.New("checkpoint store: empty task name")
	}
	return nil
}
