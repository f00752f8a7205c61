package bench_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/ddblocal"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// shared is the DynamoDB Local of the cold-start and request benchmarks,
// started by the first benchmark that needs it, so that plain `go test`
// starts nothing.
var shared struct {
	once sync.Once
	srv  *ddblocal.Server
	err  error
}

// dynamoLocal returns the shared in-memory DynamoDB Local.
func dynamoLocal(b *testing.B) *ddblocal.Server {
	b.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.srv, shared.err = ddblocal.Start(ctx, ddblocal.Options{})
	})
	if shared.err != nil {
		b.Fatalf("start DynamoDB Local: %v", shared.err)
	}
	return shared.srv
}

// artefacts returns the folder of the bootstraps make bench built
// (<function>/bootstrap, and hello, sdkonly and sdkconfig/bootstrap for
// the cold starts' baselines and reference points) and the emulator.
func artefacts(b *testing.B) (binDir, rie string) {
	b.Helper()
	binDir, rie = os.Getenv("HELPDESK_BENCH_BIN"), os.Getenv("HELPDESK_BENCH_RIE")
	if binDir == "" || rie == "" {
		b.Fatal("HELPDESK_BENCH_BIN and HELPDESK_BENCH_RIE are unset: run `make bench`, which builds the bootstraps and installs the emulator")
	}
	if _, err := os.Stat(filepath.Join(binDir, "hello", "bootstrap")); err != nil {
		b.Fatalf("the hello-world baseline: %v (make bench builds it)", err)
	}
	return binDir, rie
}

// discardLogger logs as the functions do (JSON, info and above) into
// /dev/null: the cost of formatting and writing each line stays in the
// measurement, its output does not.
func discardLogger(b *testing.B) *slog.Logger {
	b.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	return slog.New(slog.NewJSONHandler(f, nil))
}

// loadDuration is how long each phase of BenchmarkLoad runs:
// HELPDESK_BENCH_LOAD_DURATION (a Go duration; make bench sets it), 20 s
// by default. An environment variable, not a flag, so that the smoke run
// can pass it to one go test over several packages.
func loadDuration(b *testing.B) time.Duration {
	b.Helper()
	v := os.Getenv("HELPDESK_BENCH_LOAD_DURATION")
	if v == "" {
		return 20 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		b.Fatalf("HELPDESK_BENCH_LOAD_DURATION=%q: want a duration of at least 1s (%v)", v, err)
	}
	return d
}
