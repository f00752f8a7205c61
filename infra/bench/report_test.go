package bench_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/acme/helpdesk/infra/bench"
)

func TestMedianAndPercentile(t *testing.T) {
	cases := []struct {
		name     string
		xs       []float64
		median   float64
		p50, p99 float64
	}{
		{"Empty", nil, 0, 0, 0},
		{"One", []float64{3}, 3, 3, 3},
		{"Odd", []float64{5, 1, 3}, 3, 3, 5},
		{"Even", []float64{4, 1, 3, 2}, 2.5, 2, 4},
		{"Hundred", hundred(), 50.5, 50, 99},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := bench.Median(tc.xs); got != tc.median {
				t.Errorf("Median = %g, want %g", got, tc.median)
			}
			if got := bench.Percentile(tc.xs, 50); got != tc.p50 {
				t.Errorf("p50 = %g, want %g", got, tc.p50)
			}
			if got := bench.Percentile(tc.xs, 99); got != tc.p99 {
				t.Errorf("p99 = %g, want %g", got, tc.p99)
			}
		})
	}
}

func hundred() []float64 {
	xs := make([]float64, 100)
	for i := range xs {
		xs[len(xs)-1-i] = float64(i + 1)
	}
	return xs
}

func TestParse(t *testing.T) {
	out := `goos: linux
cpu: AMD EPYC
BenchmarkX
BenchmarkX/fn=get-2         	      10	         4.5 init-ms	         1.9 x-hello
--- FAIL: BenchmarkY
BenchmarkX/fn=get-2         	      10	         5.5 init-ms	         2.1 x-hello
BenchmarkX/fn=get-2         	      10	         4.0 init-ms	         1.7 x-hello
BenchmarkZ-16 	 1	 12 ms/batch
PASS
ok  	example	1.0s
`
	results, err := bench.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 || results[0].Name != "BenchmarkX/fn=get" || results[3].Name != "BenchmarkZ" {
		t.Fatalf("results %+v", results)
	}
	s, ok := bench.Summarize(results, "BenchmarkX/fn=get", "x-hello")
	if !ok || s != (bench.Stat{Median: 1.9, Min: 1.7, Max: 2.1, Runs: 3}) {
		t.Fatalf("Summarize = %+v, %v", s, ok)
	}
	if _, ok := bench.Summarize(results, "BenchmarkX/fn=get", "MB"); ok {
		t.Fatal("a metric nobody reported was found")
	}
	if _, err := bench.Parse(strings.NewReader("BenchmarkX-2 1 abc init-ms\n")); err == nil {
		t.Fatal("a value that is not a number was accepted")
	}
}

// TestBuild builds reports from the smoke run's output as it looks when
// complete (testdata/results.txt), and from damaged copies of it.
func TestBuild(t *testing.T) {
	raw, err := os.ReadFile("testdata/results.txt")
	if err != nil {
		t.Fatal(err)
	}
	results, err := bench.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	m := bench.Machine{CPU: "test CPU", Cores: 2}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

	t.Run("Full", func(t *testing.T) {
		rep, err := bench.Build(results, m, "make bench", false, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Sections) != 6 {
			t.Fatalf("%d sections", len(rep.Sections))
		}
		// testdata: openapi's cold start ÷ hello under 1.15x and get's ÷
		// sdkonly under 1.1x, the twelve others' ÷ sdkonly above; every size
		// under 2x; the GET, merged list, comment, comment-page and
		// feed-page requests under 1.15x, create and list above; the rate
		// limiter's writes and median within theirs; no error under load.
		if rep.Met != 2+14+5+2+2 || len(rep.Missed) != 12+2 {
			t.Errorf("met %d, missed %d: %v", rep.Met, len(rep.Missed), rep.Missed)
		}
		var text bytes.Buffer
		if err := rep.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"== 1. Cold start", "== 5. Webhook fan-out", "== 6. Feed lag", "MISS", "PASS", "total", "Targets: 25 met, 14 MISSED",
			"÷ hello (≤ 1.15 for openapi)", "÷ sdkonly (≤ 1.1 for the others)", "1. Cold start, list: x-sdkonly 1.35, target ≤ 1.1"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("the report lacks %q:\n%s", want, text.String())
			}
		}
	})
	// Each function's cold start is judged by one ratio: ÷ hello for
	// openapi, which makes no DynamoDB call, ÷ sdkonly for the others. The
	// other ratio has neither target nor verdict, even where it would
	// pass (openapi ÷ sdkonly) or miss (get ÷ hello); the reference
	// points have none.
	t.Run("ColdStartTargetPerRow", func(t *testing.T) {
		rep, err := bench.Build(results, m, "make bench", false, now)
		if err != nil {
			t.Fatal(err)
		}
		cold := rep.Sections[0].Tables
		want := map[string]map[string]string{ // row → metric → verdict
			"openapi": {"x-hello": bench.Pass, "x-sdkonly": "", "size-x-hello": bench.Pass},
			"get":     {"x-hello": "", "x-sdkonly": bench.Pass, "size-x-hello": bench.Pass},
			"list":    {"x-hello": "", "x-sdkonly": bench.Miss, "size-x-hello": bench.Pass},
			"retry":   {"x-hello": "", "x-sdkonly": bench.Miss, "size-x-hello": bench.Pass},
			"sdkonly": {"x-hello": "", "size-x-hello": ""},
		}
		seen := 0
		for _, table := range cold {
			for _, r := range table.Rows {
				verdicts, ok := want[r.Name]
				if !ok {
					continue
				}
				seen++
				for _, c := range r.Cells {
					v, judged := verdicts[c.Metric]
					if !judged {
						v = ""
					}
					if c.Verdict != v || (c.Target == nil) != (v == "") {
						t.Errorf("%s %s: verdict %q, target %v; want verdict %q", r.Name, c.Metric, c.Verdict, c.Target, v)
					}
				}
			}
		}
		if seen != len(want) {
			t.Errorf("found %d of the rows %v", seen, want)
		}
	})
	t.Run("QuickJudgesNoRatio", func(t *testing.T) {
		rep, err := bench.Build(results, m, "make bench BENCH_QUICK=1", true, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Missed) != 0 || rep.Met != 2 { // only the errors-under-load condition
			t.Fatalf("met %d, missed %v", rep.Met, rep.Missed)
		}
	})
	t.Run("MissingSection", func(t *testing.T) {
		var kept []bench.Result
		for _, r := range results {
			if !strings.HasPrefix(r.Name, "BenchmarkFanOut") && r.Name != "BenchmarkColdStart/fn=retry" {
				kept = append(kept, r)
			}
		}
		_, err := bench.Build(kept, m, "make bench", true, now)
		if !errors.Is(err, bench.ErrIncomplete) || !strings.Contains(err.Error(), "BenchmarkFanOut") || !strings.Contains(err.Error(), "fn=retry") {
			t.Fatalf("error %v does not name both missing benchmarks", err)
		}
	})
	t.Run("ErrorsUnderLoad", func(t *testing.T) {
		bad := append([]bench.Result(nil), results...)
		for i, r := range bad {
			if r.Name == "BenchmarkLoad/stack=rie" {
				metrics := map[string]float64{}
				for k, v := range r.Metrics {
					metrics[k] = v
				}
				metrics["errors"] = 3
				bad[i] = bench.Result{Name: r.Name, Metrics: metrics}
			}
		}
		for _, quick := range []bool{true, false} {
			if _, err := bench.Build(bad, m, "make bench", quick, now); !errors.Is(err, bench.ErrHardTarget) {
				t.Errorf("quick=%v: error %v, want a failed correctness condition", quick, err)
			}
		}
	})
	t.Run("Cost", func(t *testing.T) {
		rep, err := bench.Build(results, m, "make bench", false, now)
		if err != nil {
			t.Fatal(err)
		}
		c := rep.Cost
		// The testdata's durations (get 1.2 ms, list 2.1, comments 2.3,
		// events 6.9, create 1.6, comment 3.1, update 2.6) bill as 2, 3,
		// 3, 7, 2, 4 and 3 ms; its units are list 2.1 (the workload's list
		// mix), get 1, comments 2.5, events 25, create 4.8, comment 1 +
		// 16.1, update 1 + 7.3 (BenchmarkWorkloadCost).
		gbs := (0.28*3 + 0.28*2 + 0.20*3 + 0.04*7 + 0.05*2 + 0.08*4 + 0.07*3) * 1e6 / 1000 * 0.125
		reads := 0.28*2.1 + 0.28*1 + 0.20*2.5 + 0.04*25 + 0.08*1 + 0.07*1
		writes := 0.05*4.8 + 0.08*16.1 + 0.07*7.3
		api := 1.00 + 0.20 + gbs*0.0000133334 + reads*0.125 + writes*0.625
		// The stream consumer (BenchmarkEventCost/write=…): create,
		// comment and update make 1, 2 and 1 records, 1, 1 and 1.25
		// events, in 2, 2 and 2 ms; they read 1, 1 and 1.25 and write 5, 6
		// and 7.5 units; a subscription adds the same reads again and 5,
		// 5 and 6.25 write units, and with it they take 6, 6 and 6 ms.
		records := (0.05*1 + 0.08*2 + 0.07*1) * 1e6
		invocations := math.Ceil(records / bench.StreamBatchSize)
		streamGBs := (0.05*2 + 0.08*2 + 0.07*2) * 1e6 / 1000 * 0.125
		withSubGBs := (0.05*6 + 0.08*6 + 0.07*6) * 1e6 / 1000 * 0.125
		streamReads := 0.05*1 + 0.08*1 + 0.07*1.25
		streamWrites := 0.05*5 + 0.08*6 + 0.07*7.5
		subWrites := 0.05*5 + 0.08*5 + 0.07*6.25
		stream := invocations/1e6*0.20 + streamGBs*0.0000133334 + streamReads*0.125 + streamWrites*0.625
		sub := (withSubGBs-streamGBs)*0.0000133334 + streamReads*0.125 + subWrites*0.625
		if math.Abs(c.Requests-api) > 1e-9 {
			t.Fatalf("the API's requests $%.6f, want $%.6f", c.Requests, api)
		}
		if want := api + stream; math.Abs(c.Total-want) > 1e-9 {
			t.Fatalf("total $%.6f, want $%.6f (%+v)", c.Total, want, c.Parts)
		}
		if want := api + stream + sub; math.Abs(c.TotalWithSubscription-want) > 1e-9 {
			t.Fatalf("total with a subscription $%.6f, want $%.6f (%+v)", c.TotalWithSubscription, want, c.Parts)
		}
		if want := (0.05 + 0.08 + 0.06 + 0.01) * 1e6; math.Abs(c.QuietInvocations-want) > 1e-6 {
			t.Fatalf("a quiet desk's stream invocations: %.0f, want one per write, %.0f", c.QuietInvocations, want)
		}
	})
}
