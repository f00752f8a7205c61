package cursor

import (
	"context"
	"sync"
)

// Lazy makes a Codec when one is first needed, from a key that load
// fetches (from a secrets store, say). A process that never pages never
// fetches the key, and a failed fetch fails only the requests that needed
// a codec, the next of which tries again, instead of failing the process's
// start. It is safe for concurrent use: concurrent first uses fetch once.
type Lazy struct {
	load func(context.Context) ([]byte, error)

	mu    sync.Mutex
	codec *Codec
}

// NewLazy returns a Lazy that fetches its key with load.
func NewLazy(load func(context.Context) ([]byte, error)) *Lazy {
	return &Lazy{load: load}
}

// Codec returns the codec, fetching its key on the first call and again
// on the call after a failed fetch.
func (l *Lazy) Codec(ctx context.Context) (*Codec, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.codec != nil {
		return l.codec, nil
	}
	key, err := l.load(ctx)
	if err != nil {
		return nil, err
	}
	c, err := New(key)
	if err != nil {
		return nil, err
	}
	l.codec = c
	return c, nil
}
