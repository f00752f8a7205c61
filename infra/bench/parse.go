package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Result is one result line of `go test -bench` output: the benchmark's
// name without its -GOMAXPROCS suffix, and its metrics by unit.
type Result struct {
	Name    string
	Metrics map[string]float64
}

// procsSuffix is the -GOMAXPROCS suffix go test appends to names.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// Parse reads the output of one or more `go test -bench` runs and returns
// their result lines in order. Other lines (configuration, logs, PASS, the
// bare names -v prints) are skipped; a result line with a value that is
// not a number is an error.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || len(f)%2 != 0 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		res := Result{Name: procsSuffix.ReplaceAllString(f[0], ""), Metrics: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: %s: value %q: %w", n, f[0], f[i], err)
			}
			res.Metrics[f[i+1]] = v
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// Stat summarises one metric of one benchmark over its runs (-count).
type Stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// Summarize returns the median, minimum and maximum of metric unit over
// every result named name; ok is false when none has it.
func Summarize(results []Result, name, unit string) (s Stat, ok bool) {
	var vs []float64
	for _, r := range results {
		if v, has := r.Metrics[unit]; has && r.Name == name {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return Stat{}, false
	}
	s = Stat{Median: Median(vs), Min: vs[0], Max: vs[0], Runs: len(vs)}
	for _, v := range vs {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
	}
	return s, true
}

// names returns the distinct names of results under benchmark prefix
// (the benchmark itself or its sub-benchmarks), in order of appearance.
func names(results []Result, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range results {
		if (r.Name == prefix || strings.HasPrefix(r.Name, prefix+"/")) && !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	}
	return out
}
