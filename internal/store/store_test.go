package store

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/opendts/opendts/internal/cdc"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestCheckpointRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "task.db")
	db := open(t, path)
	if _, ok, err := db.LoadCheckpoint(ctx, "shop"); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	p1 := cdc.Position{Flavor: cdc.MariaDB, File: "mysql-bin.000003", Offset: 1234, GTIDSet: "0-1-100"}
	p2 := cdc.Position{Flavor: cdc.MySQL, File: "binlog.000009", Offset: 4, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77", GTID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:77"}
	for _, p := range []cdc.Position{p1, p2} {
		if err := db.SaveCheckpoint(ctx, "shop", p); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.LoadCheckpoint(ctx, "shop"); !ok || err != nil || got != p {
			t.Fatalf("load = %+v, %v, %v; want %+v", got, ok, err, p)
		}
	}
	if err := db.SaveCheckpoint(ctx, "other", p1); err != nil {
		t.Fatal(err)
	}

	// Survives a reopen.
	db.Close()
	db = open(t, path)
	if got, _, _ := db.LoadCheckpoint(ctx, "shop"); got != p2 {
		t.Errorf("after reopen: %+v, want %+v", got, p2)
	}
	if got, _, _ := db.LoadCheckpoint(ctx, "other"); got != p1 {
		t.Errorf("other task: %+v, want %+v", got, p1)
	}
}

// TestCheckpointGolden pins the bytes a checkpoint is stored as: a restarted
// (or newer) dts must read what an older one wrote.
func TestCheckpointGolden(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "task.db"))
	db.now = func() time.Time { return time.Date(2024, 5, 1, 10, 0, 0, 123000000, time.FixedZone("CST", 8*3600)) }
	p := cdc.Position{Flavor: cdc.MariaDB, File: "mysql-bin.000003", Offset: 1234, GTIDSet: "0-1-100,1-2-7", GTID: "0-1-100"}
	if err := db.SaveCheckpoint(context.Background(), "shop", p); err != nil {
		t.Fatal(err)
	}
	var got []byte
	db.bolt.View(func(tx *bolt.Tx) error {
		got = append([]byte{}, tx.Bucket([]byte(checkpointsBucket)).Get([]byte("shop"))...)
		return nil
	})
	golden := filepath.Join("testdata", "checkpoint.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, bytes.TrimSuffix(want, []byte("\n"))) {
		t.Errorf("stored checkpoint changed:\n got %s\nwant %s", got, want)
	}

	// And the golden bytes read back as the position.
	db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(checkpointsBucket)).Put([]byte("old"), bytes.TrimSpace(want))
	})
	if back, ok, err := db.LoadCheckpoint(context.Background(), "old"); !ok || err != nil || back != p {
		t.Errorf("golden reads back as %+v, %v, %v", back, ok, err)
	}
}

func TestCheckpointUnknownVersion(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "task.db"))
	db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(checkpointsBucket)).Put([]byte("t"), []byte(`{"version":2,"position":{}}`))
	})
	if _, _, err := db.LoadCheckpoint(context.Background(), "t"); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("err = %v", err)
	}
	db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(checkpointsBucket)).Put([]byte("t"), []byte(`not json`))
	})
	if _, _, err := db.LoadCheckpoint(context.Background(), "t"); err == nil {
		t.Error("corrupt record loaded")
	}
}

func TestState(t *testing.T) {
	ctx := context.Background()
	db := open(t, filepath.Join(t.TempDir(), "task.db"))
	if _, ok, err := db.LoadState(ctx, "shop", "snapshot/shop.orders"); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	if err := db.SaveState(ctx, "shop", "snapshot/shop.orders", []byte(`{"chunk":7}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveState(ctx, "shop", "empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	v, ok, err := db.LoadState(ctx, "shop", "snapshot/shop.orders")
	if !ok || err != nil || string(v) != `{"chunk":7}` {
		t.Fatalf("load = %q %v %v", v, ok, err)
	}
	if v, ok, _ := db.LoadState(ctx, "shop", "empty"); !ok || len(v) != 0 {
		t.Errorf("empty value: %q %v", v, ok)
	}
	if _, ok, _ := db.LoadState(ctx, "other", "snapshot/shop.orders"); ok {
		t.Error("state leaked across tasks")
	}
	if err := db.SaveState(ctx, "shop", "", nil); err == nil {
		t.Error("empty key accepted")
	}

	if err := db.SaveCheckpoint(ctx, "shop", cdc.Position{File: "f", Offset: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTask(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTask(ctx, "never"); err != nil {
		t.Errorf("deleting an unknown task: %v", err)
	}
	if _, ok, _ := db.LoadState(ctx, "shop", "snapshot/shop.orders"); ok {
		t.Error("state survived DeleteTask")
	}
	if _, ok, _ := db.LoadCheckpoint(ctx, "shop"); ok {
		t.Error("checkpoint survived DeleteTask")
	}
}

func TestArgs(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "task.db"))
	if err := db.SaveCheckpoint(context.Background(), "", cdc.Position{}); err == nil {
		t.Error("empty task name accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.SaveCheckpoint(ctx, "t", cdc.Position{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

// TestInUse checks that a second opener (here in the same process: bbolt's
// flock is per open file, so it conflicts like another process would) gets
// a clear error instead of hanging, and gets the store once it is free.
func TestInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "task.db")
	first := open(t, path)
	start := time.Now()
	_, err := Open(path)
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "checkpoint store "+path+" is in use by another dts process") {
		t.Fatalf("second Open: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
	first.Close()
	open(t, path)
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing-dir", "task.db"))
	if err == nil || !strings.Contains(err.Error(), "open checkpoint store") {
		t.Errorf("err = %v", err)
	}
}
