package collector

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit.
//
// Intake requests do not write to the database themselves. Accept validates a
// report and enqueues its count increments to one writer goroutine, which
// takes everything queued (up to maxBatch reports) and applies it in ONE
// transaction: the increments are summed in memory per (ruleset, epoch,
// mechanism[, idx]) and written with a handful of UPSERTs. Only after that
// transaction has committed does each waiting request get its answer, so a
// 204 means "counted and committed".
//
// Batching: once the writer has a report it takes whatever else is queued
// and, when the previous batch held more than one report (so reports are
// arriving concurrently), keeps taking reports for up to maxWait (1 ms) or
// until it has maxBatch (1000), whichever comes first, then commits. Meanwhile new reports queue up for the next batch. So a report
// waits at most ~1 ms plus one commit before its 204, and under load one
// transaction carries hundreds of reports.
//
// Durability: the database runs in WAL mode with synchronous=NORMAL. A
// committed transaction is in the WAL file (written by the OS) before the
// writer acknowledges it, so no acknowledged report is lost when the process
// exits, crashes or restarts. On power loss or an OS crash, the last
// transactions since the most recent WAL checkpoint sync may be lost
// (synchronous=FULL would fsync the WAL on every commit; with group commit
// that is one fsync per batch, not per report, and can be switched on in
// openDB if the deployment wants power-loss durability). The database is
// never corrupted either way.

// maxBatch bounds the reports in one transaction.
const maxBatch = 1000

// maxWait bounds how long the writer waits for a batch to fill once it has
// a report: the most group commit adds to a report's latency.
const maxWait = time.Millisecond

// queueLen is the queue's buffer; senders block when it is full, which is
// the backpressure on intake.
const queueLen = 4 * maxBatch

// op is one report's increments waiting for its batch to commit.
type op struct {
	ruleset, mechanism string
	epoch              int64
	value              int        // the cohort index, or noCohort
	outcomes           []outcome  // the outcome answers
	done               chan error // buffered 1
}

var errClosed = errors.New("collector: closed")

// errBusy: the queue stayed full for enqueueWait.
var errBusy = errors.New("collector: the writer's queue is full")

// enqueueWait is how long a report waits for room in a full queue.
const enqueueWait = time.Second

// writer is the single goroutine that owns writes.
type writer struct {
	c      *Collector
	mu     sync.RWMutex // held for reading while enqueuing; Close takes it to close queue
	closed bool
	queue  chan *op
	exited chan struct{}
	// batches and reports committed or refused, for the benchmark's mean
	// batch size.
	batches, reports atomic.Int64
}

func (c *Collector) startWriter() {
	w := &writer{c: c, queue: make(chan *op, queueLen), exited: make(chan struct{})}
	c.w = w
	go w.run()
}

var opPool = sync.Pool{New: func() any { return &op{done: make(chan error, 1)} }}

// add counts one report: its cohort index (or noCohort), its outcome
// answers and one more report. It returns once the report's batch has
// committed (nil) or failed.
func (c *Collector) add(ctx context.Context, ruleset string, epoch int64, mechanism string, value int, outcomes []outcome) error {
	o := opPool.Get().(*op)
	o.ruleset, o.epoch, o.mechanism, o.value, o.outcomes = ruleset, epoch, mechanism, value, outcomes
	w := c.w
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		putOp(o)
		return errClosed
	}
	select {
	case w.queue <- o:
	default:
		// The queue is full: the database is slow or away. Wait a little
		// for room, then say so rather than hold the request.
		t := time.NewTimer(enqueueWait)
		select {
		case w.queue <- o:
			t.Stop()
		case <-t.C:
			w.mu.RUnlock()
			putOp(o)
			return errBusy
		case <-ctx.Done():
			t.Stop()
			w.mu.RUnlock()
			putOp(o)
			return ctx.Err()
		}
	}
	w.mu.RUnlock()
	// Once queued, the report will be committed or fail; wait for which,
	// even if the client has gone, so a 204 is never sent for a report that
	// is not on disk and an op is never reused while queued.
	err := <-o.done
	putOp(o)
	return err
}

// putOp returns o to the pool, without the report's outcome answers.
func putOp(o *op) {
	o.outcomes = nil
	opPool.Put(o)
}

// close stops intake, lets the writer commit everything queued and waits
// for it.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.exited
}

func (w *writer) run() {
	defer close(w.exited)
	batch := make([]*op, 0, maxBatch)
	timer := time.NewTimer(maxWait)
	timer.Stop()
	last := 0 // size of the previous batch
	for {
		o, ok := <-w.queue
		if !ok {
			return
		}
		batch = append(batch[:0], o)
		// Take what is queued. If reports are arriving concurrently (the
		// previous batch had company), linger up to maxWait for more, but
		// only until this batch is as large as the previous one (about the
		// number of senders waiting on a commit) and holds at least one
		// report more than the drain found (so batches can grow as load
		// rises): under load that turns many
		// tiny transactions into a few large ones, while a few closed-loop
		// senders are not held for the whole maxWait, and a lone sequential
		// sender never waits.
		closed := false
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-w.queue:
				if !ok {
					closed = true
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		if target := min(max(last, len(batch)+1), maxBatch); !closed && last > 1 && len(batch) < target {
			timer.Reset(maxWait)
		linger:
			for len(batch) < target {
				select {
				case o, ok := <-w.queue:
					if !ok {
						break linger // closed: commit this batch, then exit at the top
					}
					batch = append(batch, o)
				case <-timer.C:
					break linger
				}
			}
			timer.Stop()
		}
		last = len(batch)
		w.batches.Add(1)
		w.reports.Add(int64(len(batch)))
		errs := w.c.commit(batch)
		for i, o := range batch {
			o.done <- errs[i]
			batch[i] = nil
		}
	}
}
