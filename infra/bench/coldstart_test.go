package bench_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/infra/bench"
	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/httpapi"
)

// BenchmarkColdStart starts every function's bootstrap under a fresh
// aws-lambda-rie once per iteration, and beside it, in the same iteration,
// its two baselines, built with the same flags in the same run: the
// hello-world function (infra/bench/hello) and sdkonly (hello and a
// DynamoDB client, infra/bench/sdkonly). The order rotates from one
// iteration to the next, so that each goes first, second and last equally
// often; each gets the function's environment (DynamoDB Local, dummy
// credentials, the cursor key) and one invocation. A first, unmeasured
// start of each brings the binaries into the page cache. It reports the
// median INIT REPORT duration of each (init-ms, hello-init-ms,
// sdkonly-init-ms), the function's ÷ each baseline's (x-hello, x-sdkonly),
// and the binary sizes (MB, size-x-hello). Which ratio is judged depends
// on whether the function calls DynamoDB (noDynamoDB, sections.go).
//
// Two reference points are measured the same way, beside hello only:
// sdkonly itself and sdkconfig (the same from config.LoadDefaultConfig).
//
//	HELPDESK_BENCH_BIN=… HELPDESK_BENCH_RIE=… go test -run '^$' -bench ColdStart -benchtime 20x ./infra/bench/
func BenchmarkColdStart(b *testing.B) {
	binDir, rie := artefacts(b)
	srv := dynamoLocal(b)
	ctx := context.Background()
	db, err := ddblocal.NewClient(ctx, srv.Endpoint())
	if err != nil {
		b.Fatal(err)
	}
	// The functions' environment names the e2e table; the retry function
	// reads it on its invocation.
	if err := local.EnsureTable(ctx, db, e2e.TableName); err != nil {
		b.Fatal(err)
	}
	cursorKey := base64.StdEncoding.EncodeToString(make([]byte, cursor.KeySize))
	hello := filepath.Join(binDir, "hello", "bootstrap")
	sdkonly := filepath.Join(binDir, "sdkonly", "bootstrap")
	helloSize := fileSize(b, hello)
	var subjects []string
	for _, fn := range e2e.Functions {
		subjects = append(subjects, "fn="+fn)
	}
	subjects = append(subjects, "ref=sdkonly", "ref=sdkconfig")
	for _, subject := range subjects {
		kind, fn, _ := strings.Cut(subject, "=")
		b.Run(subject, func(b *testing.B) {
			bootstrap := filepath.Join(binDir, fn, "bootstrap")
			env := e2e.FunctionEnv(fn, srv.Endpoint(), cursorKey)
			payload := []byte("{}")
			if kind == "fn" {
				payload = coldStartPayload(b, fn)
			}
			// The binary measured, then its baselines: hello, and sdkonly
			// for a function (a reference point is measured beside hello
			// only).
			type binary struct {
				path    string
				payload []byte
				inits   []float64 // ms
			}
			measured := &binary{path: bootstrap, payload: payload}
			helloRun := &binary{path: hello, payload: []byte("{}")}
			binaries := []*binary{measured, helloRun}
			var sdkonlyRun *binary
			if kind == "fn" {
				sdkonlyRun = &binary{path: sdkonly, payload: []byte("{}")}
				binaries = append(binaries, sdkonlyRun)
			}
			start := func(bin *binary) float64 {
				d, result, err := e2e.ColdStart(ctx, rie, bin.path, env, bin.payload)
				if err != nil {
					b.Fatal(err)
				}
				if strings.Contains(string(result), `"errorMessage"`) {
					b.Fatalf("%s failed its invocation: %.300s", bin.path, result)
				}
				if bin == measured && kind == "fn" && fn != e2e.Dispatch && fn != e2e.Retry {
					// Without a key the first route is refused, unless it is
					// public (the document): either way the handler ran.
					want := http.StatusUnauthorized
					if fn == string(httpapi.Docs) {
						want = http.StatusOK
					}
					if res, err := e2e.ParseResponse(result); err != nil || res.StatusCode != want {
						b.Fatalf("%s answered %.300s (%v), want %d", fn, result, err, want)
					}
				}
				return float64(d) / float64(time.Millisecond)
			}
			for _, bin := range binaries {
				start(bin) // into the page cache, unmeasured
			}
			// Iteration i starts binaries[i%n] first, and the others in
			// turn after it.
			for i := 0; b.Loop(); i++ {
				for j := range binaries {
					bin := binaries[(i+j)%len(binaries)]
					bin.inits = append(bin.inits, start(bin))
				}
			}
			size := fileSize(b, bootstrap)
			b.ReportMetric(0, "ns/op") // two or three process starts and their teardown
			initMs, helloMs := bench.Median(measured.inits), bench.Median(helloRun.inits)
			b.ReportMetric(initMs, "init-ms")
			b.ReportMetric(helloMs, "hello-init-ms")
			b.ReportMetric(initMs/helloMs, "x-hello")
			if sdkonlyRun != nil {
				sdkonlyMs := bench.Median(sdkonlyRun.inits)
				b.ReportMetric(sdkonlyMs, "sdkonly-init-ms")
				b.ReportMetric(initMs/sdkonlyMs, "x-sdkonly")
			}
			b.ReportMetric(float64(size)/1e6, "MB")
			b.ReportMetric(float64(size)/float64(helloSize), "size-x-hello")
		})
	}
}

// coldStartPayload is the first event of function fn: for an API function
// a payload 2.0 event of its first route without credentials (401 after
// init, without a database call), for dispatch an empty stream batch,
// for retry a scheduled event.
func coldStartPayload(b *testing.B, fn string) []byte {
	b.Helper()
	var v any
	switch fn {
	case e2e.Dispatch:
		v = map[string]any{"Records": []any{}}
	case e2e.Retry:
		v = map[string]any{"source": "aws.events", "detail-type": "Scheduled Event", "detail": map[string]any{}}
	default:
		for _, rt := range httpapi.Routes {
			if string(rt.Endpoint) != fn {
				continue
			}
			path := httpapi.BasePath + strings.ReplaceAll(rt.Path, "{id}", "tkt_aaaaaaaaaaaaaaaaaaaaaaaa")
			req := httptest.NewRequest(rt.Method, path, nil)
			v = e2e.NewEvent(req, nil, rt, map[string]string{"id": "tkt_aaaaaaaaaaaaaaaaaaaaaaaa"}, "bench-cold-start", time.Now())
			break
		}
	}
	if v == nil {
		b.Fatalf("no route of function %s", fn)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}
