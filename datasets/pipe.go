package datasets

import (
	"io"
	"sync"
)

// asyncWriter decouples the engine's stream from the observatory's writers:
// Write copies each piece into a buffer and hands it to a goroutine that
// writes it on, so that on two cores the engine produces the next piece
// while the previous one is converted (CSV, Excel CSV, JSON) and sent. At
// most depth pieces are in flight: memory stays constant.
type asyncWriter struct {
	w     io.Writer
	ch    chan []byte
	done  chan struct{}
	err   error
	mu    sync.Mutex
	pool  sync.Pool
	close sync.Once
}

const asyncDepth = 4

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, ch: make(chan []byte, asyncDepth), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			if a.failed() == nil {
				if _, err := a.w.Write(b); err != nil {
					a.mu.Lock()
					a.err = err
					a.mu.Unlock()
				}
			}
			a.pool.Put(b[:0])
		}
	}()
	return a
}

func (a *asyncWriter) failed() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Write queues a copy of p; it fails once the writer behind has failed (the
// engine's stream then stops too).
func (a *asyncWriter) Write(p []byte) (int, error) {
	if err := a.failed(); err != nil {
		return 0, err
	}
	var b []byte
	if x := a.pool.Get(); x != nil {
		b = x.([]byte)
	}
	a.ch <- append(b, p...)
	return len(p), nil
}

// Wait drains the queue and returns the first error of the writer behind.
func (a *asyncWriter) Wait() error {
	a.close.Do(func() { close(a.ch) })
	<-a.done
	return a.failed()
}
