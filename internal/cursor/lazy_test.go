package cursor_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/acme/helpdesk/internal/cursor"
)

func TestLazy(t *testing.T) {
	key := bytes.Repeat([]byte{9}, cursor.KeySize)
	var calls atomic.Int32
	failFirst := true
	lazy := cursor.NewLazy(func(context.Context) ([]byte, error) {
		calls.Add(1)
		if failFirst {
			failFirst = false
			return nil, errors.New("secret store unavailable")
		}
		return key, nil
	})
	ctx := context.Background()
	if _, err := lazy.Codec(ctx); err == nil {
		t.Fatal("a failed fetch gave a codec")
	}
	var wg sync.WaitGroup
	codecs := make([]*cursor.Codec, 8)
	for i := range codecs {
		wg.Go(func() {
			c, err := lazy.Codec(ctx)
			if err != nil {
				t.Error(err)
			}
			codecs[i] = c
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2 (the failed one, then one for all)", n)
	}
	// The codec uses the fetched key: a token opens under a codec made
	// directly from it.
	direct, err := cursor.New(key)
	if err != nil {
		t.Fatal(err)
	}
	token := codecs[3].Seal("b", []byte("state"))
	if got, err := direct.Open("b", token); err != nil || string(got) != "state" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := cursor.NewLazy(func(context.Context) ([]byte, error) { return []byte("short"), nil }).Codec(ctx); err == nil {
		t.Fatal("a short key gave a codec")
	}
}
