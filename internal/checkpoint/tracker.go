// Package checkpoint decides which source position a task may resume from.
// Kafka acknowledges records out of order (partitions are independent, and
// kgo calls promises as each partition's batches complete), but a task may
// only persist a position once every record produced before it has been
// acknowledged, or a crash would lose the unacknowledged ones. The Tracker
// turns the acknowledgements into the highest such position.
package checkpoint

import (
	"sort"
	"sync"

	"github.com/opendts/opendts/internal/cdc"
)

// defaultMaxMarks bounds the transaction ends a Tracker keeps while their
// records are in flight. See Tracker.
const defaultMaxMarks = 4096

// Tracker releases transaction-end positions once every record produced
// before them has been acknowledged.
//
// The task loop calls Begin for each record it produces, in produce order,
// and Commit at each transaction end, in the same order. Kafka's promise
// calls Done or Fail exactly once per record, from any goroutine. Safe
// returns the newest position whose records are all acknowledged.
//
// The Tracker does not remember records one by one. Records are grouped
// into segments, one per transaction end (the records since the previous
// Commit), each with a count of records still in flight; Done decrements
// its segment's count (found by binary search, almost always the oldest),
// and segments whose count reaches zero are released in order. A
// million-row transaction is therefore one counter, whatever the ack
// order. Memory is bounded by the number of segments in flight, which kgo's
// MaxBufferedRecords bounds in practice; as a hard limit, when more than
// 4096 are pending (for example, one partition stalls while others keep
// acknowledging small transactions), adjacent segments are merged in pairs.
// Merging only makes checkpoints coarser, never unsafe: a merged segment is
// released when both halves are acknowledged, at the later position.
//
// All methods are O(1) amortized (Done is O(log 4096) in the worst case)
// and safe for concurrent use; one mutex guards the state.
type Tracker struct {
	mu sync.Mutex

	next      uint64 // the sequence number Begin hands out next
	openStart uint64 // first sequence number after the last Commit
	open      uint64 // records of the open segment (since the last Commit) in flight

	marks    []mark // pending transaction ends, oldest first, from marks[head]
	head     int
	maxMarks int

	safe    cdc.Position
	hasSafe bool

	err error // the first Fail
}

// mark is one pending transaction end: the records in [previous end, end)
// of which count are still in flight, and the position to release.
type mark struct {
	end   uint64
	count uint64
	pos   cdc.Position
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{maxMarks: defaultMaxMarks}
}

// Begin registers a record about to be produced and returns its sequence
// number, for Done or Fail. It is called by the task loop, in produce
// order.
func (t *Tracker) Begin() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.next
	t.next++
	t.open++
	return seq
}

// Commit registers a transaction end at pos: pos becomes safe once every
// record begun before this call is acknowledged. It is called by the task
// loop, after the Begin calls of the transaction's records.
func (t *Tracker) Commit(pos cdc.Position) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pending := t.marks[t.head:]
	switch {
	case t.open == 0 && len(pending) == 0:
		// Nothing in flight: safe at once (also for transactions whose rows
		// were all filtered out).
		t.safe, t.hasSafe = pos, true
	case t.open == 0:
		// No records since the previous end: this end is released exactly
		// when that one is, so it replaces it.
		pending[len(pending)-1].pos = pos
	default:
		t.marks = append(t.marks, mark{end: t.next, count: t.open, pos: pos})
		t.open = 0
		t.openStart = t.next
		if len(t.marks)-t.head > t.maxMarks {
			t.thin()
		}
	}
}

// Done records that Kafka acknowledged record seq. It may be called from
// any goroutine, in any order, once per record.
func (t *Tracker) Done(seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if seq >= t.next {
		panic("checkpoint: Done of a sequence number Begin never returned")
	}
	if seq >= t.openStart {
		t.open--
		return
	}
	pending := t.marks[t.head:]
	if len(pending) == 0 {
		panic("checkpoint: Done called twice for one sequence number")
	}
	i := 0
	if pending[0].end <= seq { // not the oldest segment: search
		i = sort.Search(len(pending), func(i int) bool { return pending[i].end > seq })
	}
	pending[i].count--
	if i == 0 {
		t.release()
	}
}

// Fail records that record seq will never be acknowledged. The Tracker
// keeps err (the first one) for Err and never releases a position past
// seq: Safe stays at the last position before it.
func (t *Tracker) Fail(seq uint64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
}

// Err returns the first error passed to Fail, or nil.
func (t *Tracker) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Safe returns the newest committed position all of whose records are
// acknowledged, and false if there is none yet.
func (t *Tracker) Safe() (cdc.Position, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.safe, t.hasSafe
}

// release pops the oldest pending marks whose records are all acknowledged.
func (t *Tracker) release() {
	for t.head < len(t.marks) && t.marks[t.head].count == 0 {
		t.safe, t.hasSafe = t.marks[t.head].pos, true
		t.marks[t.head] = mark{} // drop the position's strings
		t.head++
	}
	switch n := len(t.marks) - t.head; {
	case n == 0:
		t.marks, t.head = t.marks[:0], 0
	case t.head >= 1024 && t.head >= n:
		// Slide the pending marks down so the slice does not grow forever.
		copy(t.marks, t.marks[t.head:])
		clear(t.marks[n:])
		t.marks, t.head = t.marks[:n], 0
	}
}

// thin merges pending marks in pairs. Each merged mark covers both
// segments and releases the later position, so the newest position always
// survives; with an odd count the oldest mark, the next to be released,
// stays as it is.
func (t *Tracker) thin() {
	pending := t.marks[t.head:]
	n := len(pending)
	out := t.marks[:0]
	i := 0
	if n%2 == 1 { // odd: the oldest stays alone, so the newest pairs cleanly
		out = append(out, pending[0])
		i = 1
	}
	for ; i+1 < n; i += 2 {
		a, b := pending[i], pending[i+1]
		out = append(out, mark{end: b.end, count: a.count + b.count, pos: b.pos})
	}
	clear(t.marks[len(out):])
	t.marks, t.head = out, 0
}
