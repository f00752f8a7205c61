package bench_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/infra/bench"
	"github.com/acme/helpdesk/infra/e2e"
	"github.com/acme/helpdesk/infra/local"
	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/cursor"
	"github.com/acme/helpdesk/internal/ddblocal"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
	"github.com/acme/helpdesk/internal/httpapi"
)

// connections is the load's concurrency: wrk's connections and the
// baseline's goroutines.
const connections = 32

// The mixed workload, as a cycle of 20 requests that wrk's threads and the
// baseline's goroutines walk from different offsets: 45 % GET ticket, 45 %
// the first page of the default list, 10 % create.
const (
	mixGet    = 'g'
	mixList   = 'l'
	mixCreate = 'c'
	mixCycle  = "glglcglglglglglgclgl"
)

// seededTickets is how many tickets each load run creates first; the
// GETs of the mix cycle through the first getTargets of them.
const (
	seededTickets = 2 * helpdesk.DefaultPageSize
	getTargets    = 8
)

// target is a running stack under load: its API and its own DynamoDB
// Local, where the baseline's bare calls go.
type target struct {
	api      string // base URL, httpapi.BasePath included
	keys     e2e.Keys
	endpoint string
	table    string
	// logs, when set, returns the tail of the stack's logs, to say why
	// requests failed.
	logs func(n int) string
}

// BenchmarkLoad runs the mixed workload against the local stack (make
// run's code, in this process, on a fresh data folder) and against the
// RIE-hosted bootstraps behind the HTTP API stand-in (infra/e2e), each
// with wrk at 32 connections for HELPDESK_BENCH_LOAD_DURATION (20 s by
// default); just before, the same mix of bare SDK calls (the GetItem,
// Query and PutItem those requests make, recorded from the store) from 32
// goroutines against that stack's own DynamoDB Local for as long. Both
// are warmed first for a quarter of that (at most 5 s). It reports throughput (req/s), p50 and p99,
// errors (failed or non-2xx requests), the baseline's throughput and
// latency (bare-*), and the ratio of the throughputs (x-bare).
//
//	HELPDESK_BENCH_BIN=… HELPDESK_BENCH_RIE=… go test -run '^$' -bench Load -benchtime 1x ./infra/bench/
func BenchmarkLoad(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Fatal("wrk is not on PATH (make bench installs it: apt-get install wrk)")
	}
	b.Run("stack=local", func(b *testing.B) { runLoad(b, wrk, startLocal(b)) })
	b.Run("stack=rie", func(b *testing.B) { runLoad(b, wrk, startRIE(b)) })
}

// startLocal runs the local stack on a free port with a fresh data folder
// until the benchmark ends.
func startLocal(b *testing.B) target {
	b.Helper()
	dir := b.TempDir()
	keys := map[helpdesk.Permission]string{}
	for _, perm := range helpdesk.Permissions {
		keys[perm], _, _ = auth.NewKey()
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- local.Run(ctx, local.Options{
			Addr: "127.0.0.1:0", DataDir: dir, Keys: keys, Out: io.Discard, Logger: discardLogger(b),
			Ready: func(base string) { ready <- base }, RateLimit: loadRateLimit,
		})
	}()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("local stack: %v", err)
		}
	})
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		b.Fatalf("local stack: %v", err)
	case <-time.After(time.Minute):
		b.Fatal("the local stack did not start within a minute")
	}
	// The stack records its DynamoDB Local's endpoint for the keys command.
	env, err := os.ReadFile(filepath.Join(dir, "env"))
	if err != nil {
		b.Fatal(err)
	}
	var endpoint string
	for line := range strings.Lines(string(env)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "AWS_ENDPOINT_URL="); ok {
			endpoint = v
		}
	}
	if endpoint == "" {
		b.Fatalf("no AWS_ENDPOINT_URL in %s", env)
	}
	return target{
		api: base + httpapi.BasePath, endpoint: endpoint, table: local.TableName,
		keys: e2e.Keys{Read: keys[helpdesk.PermRead], Write: keys[helpdesk.PermWrite], Admin: keys[helpdesk.PermAdmin]},
	}
}

// startRIE runs the e2e stack (every bootstrap under its emulator, the
// HTTP API stand-in, the stream poller and the retry schedule) until the
// benchmark ends.
func startRIE(b *testing.B) target {
	b.Helper()
	binDir, rie := artefacts(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := e2e.Start(ctx, e2e.Options{BinDir: binDir, RIE: rie, RateLimit: loadRateLimit})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Stop(); err != nil {
			b.Errorf("e2e stack: %v", err)
		}
	})
	return target{api: s.URL(), keys: s.Keys(), endpoint: s.DynamoDBEndpoint(), table: e2e.TableName, logs: s.Logs}
}

// runLoad seeds tickets through the API, measures the bare baseline and
// then the stack under wrk.
func runLoad(b *testing.B, wrk string, t target) {
	ctx := context.Background()
	ids := seedThroughAPI(b, t)
	base, err := ddblocal.NewClient(ctx, t.endpoint)
	if err != nil {
		b.Fatal(err)
	}
	calls := &sdkCalls{}
	db := calls.client(base)
	// As many idle connections as goroutines: with the SDK's default of
	// 10, the baseline would measure connection churn rather than DynamoDB
	// Local.
	db = dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxIdleConnsPerHost = connections })
	})
	bare := bareMix(b, calls, db, t.table, ids)
	script := wrkScript(b, t, ids)
	// Warm both paths first: DynamoDB Local is a JVM that compiles its hot
	// code during the first seconds, which would otherwise fall on
	// whichever phase runs first. (wrk runs for whole seconds; a run too
	// short for that is a smoke run, which needs no warming.)
	d := loadDuration(b)
	if warm := min(d/4, 5*time.Second); warm >= time.Second {
		bareLoad(ctx, db, bare, warm)
		runWrk(b, wrk, script, t.api, warm)
	}
	var baseline, stack loadResult
	for b.Loop() {
		baseline = bareLoad(ctx, db, bare, d)
		stack = runWrk(b, wrk, script, t.api, d)
	}
	if baseline.errors > 0 {
		b.Fatalf("%d of the baseline's %d bare calls failed: %v", baseline.errors, baseline.requests, baseline.firstErr)
	}
	if stack.errors > 0 && t.logs != nil {
		b.Logf("the stack's logs:\n%s", t.logs(4000))
	}
	b.ReportMetric(0, "ns/op") // the length of the run, as configured
	b.ReportMetric(stack.rps(), "req/s")
	b.ReportMetric(stack.p50, "p50-ms")
	b.ReportMetric(stack.p99, "p99-ms")
	b.ReportMetric(float64(stack.errors), "errors")
	b.ReportMetric(baseline.rps(), "bare-req/s")
	b.ReportMetric(baseline.p50, "bare-p50-ms")
	b.ReportMetric(baseline.p99, "bare-p99-ms")
	b.ReportMetric(stack.rps()/baseline.rps(), "x-bare")
}

// seedThroughAPI creates seededTickets tickets through the API and
// returns their ids.
func seedThroughAPI(b *testing.B, t target) []string {
	b.Helper()
	var ids []string
	for i := range seededTickets {
		body := fmt.Sprintf(`{"ticket": {"subject": "Load ticket %d", "priority": "high", "tags": ["billing"]}}`, i)
		req, err := http.NewRequest(http.MethodPost, t.api+"/tickets", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+t.keys.Write)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out struct{ Ticket struct{ ID string } }
		err = json.NewDecoder(res.Body).Decode(&out)
		_ = res.Body.Close()
		if err != nil || res.StatusCode != http.StatusCreated || out.Ticket.ID == "" {
			b.Fatalf("seed: %d, %v", res.StatusCode, err)
		}
		ids = append(ids, out.Ticket.ID)
	}
	return ids
}

// bareMix records the SDK calls of the mix's requests, made by a store
// as the handlers make them, in mixCycle's order.
func bareMix(b *testing.B, calls *sdkCalls, db *dynamodb.Client, table string, ids []string) []any {
	b.Helper()
	ctx := context.Background()
	codec, err := cursor.New(make([]byte, cursor.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	store := dynamo.New(db, table, codec)
	var cycle []any
	gets := 0
	for _, r := range mixCycle {
		inputs, err := calls.record(func() error {
			switch r {
			case mixGet:
				_, err := store.Ticket(ctx, ids[gets%getTargets])
				gets++
				return err
			case mixList:
				_, err := store.ListTickets(ctx, helpdesk.ListQuery{SortBy: helpdesk.SortCreatedAt, Order: helpdesk.Desc, PageSize: helpdesk.DefaultPageSize})
				return err
			default:
				t := helpdesk.NewTicket(helpdesk.NewID("tkt_"), time.Now())
				t.Subject, t.Priority, t.Tags = "Load ticket", helpdesk.PriorityHigh, []string{"billing"}
				return store.CreateTicket(ctx, t, nil)
			}
		})
		if err != nil || len(inputs) != 1 {
			b.Fatalf("recording the bare call of %q: %d calls, %v", r, len(inputs), err)
		}
		cycle = append(cycle, inputs[0])
	}
	return cycle
}

// loadResult is what one load phase measured.
type loadResult struct {
	requests, errors int
	elapsed          time.Duration
	p50, p99         float64 // milliseconds
	firstErr         error
}

func (r loadResult) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// bareLoad replays cycle from connections goroutines, each from its own
// offset, for d.
func bareLoad(ctx context.Context, db *dynamodb.Client, cycle []any, d time.Duration) loadResult {
	var mu sync.Mutex
	var all []float64
	res := loadResult{}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range connections {
		wg.Go(func() {
			var lat []float64
			var errs int
			var first error
			for i := w; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				err := replay(ctx, db, cycle[i%len(cycle)])
				lat = append(lat, float64(time.Since(t0))/float64(time.Millisecond))
				if err != nil {
					errs++
					first = cmp.Or(first, err)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			res.errors += errs
			res.firstErr = cmp.Or(res.firstErr, first)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = len(all)
	res.p50, res.p99 = bench.Median(all), bench.Percentile(all, 99)
	return res
}

// wrkScript writes the Lua script of the mix: the requests are formatted
// once per thread, each thread starts at its own offset into the cycle,
// and every response that is not 2xx is counted.
func wrkScript(b *testing.B, t target, ids []string) string {
	b.Helper()
	u, err := url.Parse(t.api)
	if err != nil {
		b.Fatal(err)
	}
	path := u.Path
	var reqs []string
	gets := 0
	for _, r := range mixCycle {
		switch r {
		case mixGet:
			reqs = append(reqs, fmt.Sprintf(`wrk.format("GET", %q, {["Authorization"] = %q})`, path+"/tickets/"+ids[gets%getTargets], "Bearer "+t.keys.Read))
			gets++
		case mixList:
			reqs = append(reqs, fmt.Sprintf(`wrk.format("GET", %q, {["Authorization"] = %q})`, path+"/tickets", "Bearer "+t.keys.Read))
		default:
			reqs = append(reqs, fmt.Sprintf(`wrk.format("POST", %q, {["Authorization"] = %q, ["Content-Type"] = "application/json"}, %q)`,
				path+"/tickets", "Bearer "+t.keys.Write, `{"ticket": {"subject": "Load ticket", "priority": "high", "tags": ["billing"]}}`))
		}
	}
	script := fmt.Sprintf(`-- generated by BenchmarkLoad
local threads = {}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
  firstBad = ""
  reqs = {%s}
  i = offset
end
function request()
  i = i %% #reqs + 1
  return reqs[i]
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    if non2xx == 0 then firstBad = status .. " " .. string.sub(body, 1, 300) end
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad, example = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    if example == "" then example = t:get("firstBad") end
  end
  local e = summary.errors
  io.write(string.format("WRK {\"requests\": %%d, \"durationUs\": %%d, \"non2xx\": %%d, \"socket\": %%d, \"p50Us\": %%d, \"p99Us\": %%d, \"firstBad\": %%q}\n",
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout, math.floor(latency:percentile(50)), math.floor(latency:percentile(99)), example))
end
`, strings.Join(reqs, ",\n    "))
	file := filepath.Join(b.TempDir(), "mix.lua")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		b.Fatal(err)
	}
	return file
}

// runWrk runs wrk with script against the API at api for d and reads the
// summary line the script prints.
func runWrk(b *testing.B, wrk, script, api string, d time.Duration) loadResult {
	b.Helper()
	u, err := url.Parse(api)
	if err != nil {
		b.Fatal(err)
	}
	origin := u.Scheme + "://" + u.Host
	cmd := exec.Command(wrk, "-t", "2", "-c", fmt.Sprint(connections), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--timeout", "30s", "-s", script, origin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("wrk: %v\n%s", err, out.Bytes())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "WRK ")
		if !ok {
			continue
		}
		var s struct {
			Requests, DurationUs, Non2xx, Socket, P50Us, P99Us int64
			FirstBad                                           string
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			b.Fatalf("wrk summary %q: %v", line, err)
		}
		if s.FirstBad != "" {
			b.Logf("wrk: %d responses were not 2xx; the first: %s", s.Non2xx, s.FirstBad)
		}
		return loadResult{
			requests: int(s.Requests), errors: int(s.Non2xx + s.Socket), elapsed: time.Duration(s.DurationUs) * time.Microsecond,
			p50: float64(s.P50Us) / 1000, p99: float64(s.P99Us) / 1000,
		}
	}
	b.Fatalf("wrk printed no summary:\n%s", out.Bytes())
	return loadResult{}
}

// loadRateLimit is the keys' limit under load: the highest a stack takes,
// far above what wrk sends in a minute, so that the limiter runs (leasing a
// block now and then) but never refuses.
const loadRateLimit = helpdesk.MaxRateLimit
