package checkpoint

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opendts/opendts/internal/cdc"
)

func pos(off uint64) cdc.Position { return cdc.Position{File: "bin.000001", Offset: off} }

// run executes a script of space-separated steps against a new Tracker and
// returns the safe offset after each step ("-" for none):
//
//	b     Begin (sequence numbers count from 0)
//	cN    Commit at offset N
//	dI    Done(I)
//	fI    Fail(I)
func run(t *testing.T, tr *Tracker, script string) string {
	t.Helper()
	var out []string
	for _, step := range strings.Fields(script) {
		arg, _ := strconv.ParseUint(step[1:], 10, 64)
		switch step[0] {
		case 'b':
			tr.Begin()
		case 'c':
			tr.Commit(pos(arg))
		case 'd':
			tr.Done(arg)
		case 'f':
			tr.Fail(arg, errors.New("boom"))
		default:
			t.Fatalf("bad step %q", step)
		}
		if p, ok := tr.Safe(); ok {
			out = append(out, strconv.FormatUint(p.Offset, 10))
		} else {
			out = append(out, "-")
		}
	}
	return strings.Join(out, " ")
}

func TestTrackerScripts(t *testing.T) {
	for _, c := range []struct{ name, script, want string }{
		{"empty transaction is safe at once", "c10", "10"},
		{"in order", "b b c10 d0 d1", "- - - - 10"},
		{"reverse order", "b b c10 d1 d0", "- - - - 10"},
		{"second txn acked first waits", "b c10 b c20 d1 d0", "- - - - - 20"},
		{"first txn released alone", "b c10 b c20 d0", "- - - - 10"},
		{"open records do not block earlier ends", "b c10 b d0", "- - - 10"},
		{"open records block later ends", "b c10 b d0 c20 d1", "- - - 10 10 20"},
		{"empty txns coalesce", "b c10 c11 c12 d0", "- - - - 12"},
		{"empty txn after released is safe", "b c10 d0 c11", "- - 10 11"},
		{"fail stops release", "b c10 b c20 b c30 d0 f1 d2", "- - - - - - 10 10 10"},
		{"fail in first txn", "b b c10 f0 d1 c11", "- - - - - -"},
		{"rows after fail", "b c10 d0 b f1 c20 b c30 d2", "- - 10 10 10 10 10 10 10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := run(t, NewTracker(), c.script); got != c.want {
				t.Errorf("%s\n got %s\nwant %s", c.script, got, c.want)
			}
		})
	}
}

func TestTrackerErr(t *testing.T) {
	tr := NewTracker()
	if tr.Err() != nil {
		t.Fatal("new tracker has an error")
	}
	a, b := tr.Begin(), tr.Begin()
	first := errors.New("first")
	tr.Fail(b, first)
	tr.Fail(a, errors.New("second"))
	if tr.Err() != first {
		t.Errorf("Err = %v, want the first failure", tr.Err())
	}
}

func TestTrackerMisuse(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	mustPanic("Done before Begin", func() { NewTracker().Done(0) })
	mustPanic("Done twice", func() {
		tr := NewTracker()
		tr.Begin()
		tr.Commit(pos(1))
		tr.Done(0)
		tr.Done(0)
	})
}

// op is one step of a generated stream: a record or a transaction end.
type op struct {
	commit bool
	off    uint64
}

// gen makes a stream of transactions of 0 to maxRows rows.
func gen(r *rand.Rand, txns, maxRows int) []op {
	var ops []op
	for i := range txns {
		for range r.IntN(maxRows + 1) {
			ops = append(ops, op{})
		}
		ops = append(ops, op{commit: true, off: uint64(i+1) * 100})
	}
	return ops
}

// oracle computes Safe by brute force: the newest end all of whose
// preceding records are acked.
type oracle struct {
	acked  []bool
	ends   []op // commit ops with off, in order
	bounds []uint64
}

func (o *oracle) safe() (uint64, bool) {
	low := uint64(0)
	for low < uint64(len(o.acked)) && o.acked[low] {
		low++
	}
	best, ok := uint64(0), false
	for i, b := range o.bounds {
		if b <= low {
			best, ok = o.ends[i].off, true
		}
	}
	return best, ok
}

// TestTrackerRandom interleaves producing and out-of-order acks, optionally
// failing one record, and checks Safe against the oracle after every step:
// exactly equal without thinning, never ahead of it with thinning.
func TestTrackerRandom(t *testing.T) {
	for iter := range 300 {
		r := rand.New(rand.NewPCG(uint64(iter), 7))
		maxMarks := defaultMaxMarks
		if iter%3 == 0 {
			maxMarks = 1 + r.IntN(4) // force thinning
		}
		failAt := int64(-1)
		if iter%4 == 1 {
			failAt = r.Int64N(40)
		}
		t.Run(fmt.Sprintf("seed%d_marks%d_fail%d", iter, maxMarks, failAt), func(t *testing.T) {
			tr := NewTracker()
			tr.maxMarks = maxMarks
			ops := gen(r, 1+r.IntN(60), r.IntN(8))
			o := &oracle{}
			var inflight []uint64
			check := func(when string) {
				t.Helper()
				want, wantOK := o.safe()
				got, gotOK := tr.Safe()
				if gotOK && (!wantOK || got.Offset > want) {
					t.Fatalf("%s: Safe = %d, but only %d (%v) is acknowledged", when, got.Offset, want, wantOK)
				}
				if maxMarks == defaultMaxMarks && (gotOK != wantOK || got.Offset != want) {
					t.Fatalf("%s: Safe = %d,%v, want %d,%v", when, got.Offset, gotOK, want, wantOK)
				}
			}
			ack := func() {
				i := r.IntN(len(inflight))
				seq := inflight[i]
				inflight = append(inflight[:i], inflight[i+1:]...)
				if int64(seq) == failAt {
					tr.Fail(seq, errors.New("boom"))
				} else {
					tr.Done(seq)
					o.acked[seq] = true
				}
				check(fmt.Sprintf("ack %d", seq))
			}
			for _, p := range ops {
				for len(inflight) > 0 && r.IntN(3) == 0 {
					ack()
				}
				if p.commit {
					tr.Commit(pos(p.off))
					o.ends = append(o.ends, p)
					o.bounds = append(o.bounds, uint64(len(o.acked)))
				} else {
					inflight = append(inflight, tr.Begin())
					o.acked = append(o.acked, false)
				}
				check("produce")
			}
			for len(inflight) > 0 {
				ack()
			}
			check("end")
			got, ok := tr.Safe()
			want, wantOK := o.safe()
			failed := failAt >= 0 && failAt < int64(len(o.acked))
			if !failed && (ok != wantOK || got.Offset != want) {
				// Everything acknowledged: thinning must not hold anything back.
				t.Fatalf("after all acks: Safe = %d,%v, want %d,%v", got.Offset, ok, want, wantOK)
			}
			if failed != (tr.Err() != nil) {
				t.Fatalf("Err = %v with failAt %d of %d records", tr.Err(), failAt, len(o.acked))
			}
		})
	}
}

// TestTrackerMillionRowTransaction checks that one huge transaction costs
// one counter, whatever the ack order.
func TestTrackerMillionRowTransaction(t *testing.T) {
	tr := NewTracker()
	tr.Commit(pos(1))
	const n = 1_000_000
	const window = 10_000 // kgo's MaxBufferedRecords
	r := rand.New(rand.NewPCG(1, 2))
	var inflight []uint64
	for range n {
		inflight = append(inflight, tr.Begin())
		if len(inflight) == window {
			r.Shuffle(len(inflight), func(i, j int) { inflight[i], inflight[j] = inflight[j], inflight[i] })
			for _, s := range inflight[:window/2] {
				tr.Done(s)
			}
			inflight = append(inflight[:0], inflight[window/2:]...)
		}
		if p, _ := tr.Safe(); p.Offset != 1 {
			t.Fatalf("Safe moved to %d inside the transaction", p.Offset)
		}
	}
	tr.Commit(pos(2))
	if len(tr.marks) != 1 || cap(tr.marks) > 4 {
		t.Errorf("marks: len %d cap %d, want one", len(tr.marks), cap(tr.marks))
	}
	for _, s := range inflight {
		tr.Done(s)
	}
	if p, _ := tr.Safe(); p.Offset != 2 {
		t.Errorf("Safe = %d, want 2", p.Offset)
	}
}

// TestTrackerStalledPartition keeps the first record unacknowledged while a
// million one-row transactions are acknowledged: memory stays bounded and
// everything is released once the stalled record is acknowledged.
func TestTrackerStalledPartition(t *testing.T) {
	tr := NewTracker()
	stalled := tr.Begin()
	tr.Commit(pos(1))
	for i := range uint64(1_000_000) {
		s := tr.Begin()
		tr.Commit(pos(2 + i))
		tr.Done(s)
		if n := len(tr.marks) - tr.head; n > defaultMaxMarks {
			t.Fatalf("%d marks pending", n)
		}
	}
	if _, ok := tr.Safe(); ok {
		t.Fatal("Safe released past the stalled record")
	}
	if c := cap(tr.marks); c > 2*defaultMaxMarks+1024 {
		t.Errorf("marks capacity %d", c)
	}
	tr.Done(stalled)
	if p, _ := tr.Safe(); p.Offset != 1_000_001 {
		t.Errorf("Safe = %d, want 1000001", p.Offset)
	}
	if len(tr.marks) != 0 {
		t.Errorf("%d marks left", len(tr.marks))
	}
}

// TestTrackerConcurrent produces on one goroutine and acknowledges on
// several (as kgo's promises do) while another reads Safe; run with -race.
func TestTrackerConcurrent(t *testing.T) {
	tr := NewTracker()
	const txns, rows, ackers = 2000, 5, 4
	acks := make(chan uint64, 256)
	var wg sync.WaitGroup
	for range ackers {
		wg.Go(func() {
			for s := range acks {
				tr.Done(s)
			}
		})
	}
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		var last uint64
		for {
			select {
			case <-stop:
				return
			default:
			}
			if p, ok := tr.Safe(); ok {
				if p.Offset < last {
					t.Errorf("Safe went back from %d to %d", last, p.Offset)
					return
				}
				last = p.Offset
			}
		}
	})
	for i := range uint64(txns) {
		for range rows {
			acks <- tr.Begin()
		}
		tr.Commit(pos(i + 1))
	}
	close(acks)
	wg.Wait()
	close(stop)
	reader.Wait()
	if p, _ := tr.Safe(); p.Offset != txns {
		t.Errorf("Safe = %d, want %d", p.Offset, txns)
	}
}

func BenchmarkTracker(b *testing.B) {
	tr := NewTracker()
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		s := tr.Begin()
		tr.Done(s)
		if i%10 == 0 {
			tr.Commit(pos(i))
		}
		i++
	}
}
