package ratelimit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/dynamotest"
	"github.com/acme/helpdesk/internal/ratelimit"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// TestOneLeaseAtATime: concurrent requests of a process share the lease in
// flight instead of each writing the counter.
func TestOneLeaseAtATime(t *testing.T) {
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	m := dynamotest.NewMetered(dynamotest.Client(t))
	l := ratelimit.New(dynamotest.StoreOn(t, m, table), 1000, ratelimit.Options{})
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if d := l.Allow(context.Background(), "key_a", 0); !d.Allowed || d.Err != nil {
				t.Errorf("refused: %+v", d)
			}
		})
	}
	wg.Wait()
	if n := m.Take().Calls["UpdateItem"]; n != 1 {
		t.Fatalf("%d leases for 40 requests within one block of 50", n)
	}
}

// TestLeaseFrontier measures, for several block sizes, the write units a
// request costs and the fewest requests four instances admit in a window
// of a key sent three times its limit: spread at random over the
// instances, and spread until half the limit is spent, then all sent to
// one (what the others hold unspent is lost). No instance ever admits
// beyond the limit. docs/rate-limits.md quotes the table it logs:
//
//	go test -run TestLeaseFrontier -v ./internal/ratelimit/
func TestLeaseFrontier(t *testing.T) {
	const (
		instances = 4
		limit     = 1200
	)
	table := dynamotest.NewTable(t, dynamo.Table.CreateTableInput)
	m := dynamotest.NewMetered(dynamotest.Client(t))
	store := dynamotest.StoreOn(t, m, table)
	start := time.Now().Truncate(time.Minute)
	window := 0
	t.Logf("%-8s %-8s %10s %10s", "block", "traffic", "admitted", "wcu/req")
	for _, divisor := range []int{10, 20, 50} {
		for _, traffic := range []string{"spread", "shift"} {
			window++
			now := start.Add(time.Duration(window) * time.Minute)
			var ls []*ratelimit.Limiter
			for range instances {
				l := ratelimit.New(store, limit, ratelimit.Options{BlockDivisor: divisor})
				l.SetClock(func() time.Time { return now })
				ls = append(ls, l)
			}
			m.Take()
			admitted := 0
			for i := range 3 * limit {
				in := rand.IntN(instances)
				if traffic == "shift" && i >= limit/2 {
					in = 0
				}
				if d := ls[in].Allow(context.Background(), "key_frontier", 0); d.Err != nil {
					t.Fatal(d.Err)
				} else if d.Allowed {
					admitted++
				}
			}
			u := m.Take()
			t.Logf("%-8s %-8s %10d %10.4f", fmt.Sprintf("1/%d", divisor), traffic, admitted, u.WCU/float64(admitted))
			if admitted > limit {
				t.Errorf("block 1/%d, %s: %d admitted, beyond the limit %d", divisor, traffic, admitted, limit)
			}
		}
	}
}
