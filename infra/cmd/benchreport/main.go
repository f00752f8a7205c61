// Command benchreport turns the output of the `make bench` benchmarks into
// the report: it prints a table per section — each metric's median over
// the runs with its min–max, the target and PASS or MISS — and the cost
// estimate, and writes them with the machine's description as JSON.
//
//	go run ./infra/cmd/benchreport -in infra/bench/results.txt -json infra/bench/results.json
//
// It exits 1 when a section lacks its numbers or a correctness condition
// (no errors under load) failed, and 0 otherwise, missed targets included:
// they are printed as MISS and recorded, not failed on, since the ratios
// of one run on a shared machine are evidence to read, not a gate.
// With -quick (the smoke run of make test) it judges no target but the
// correctness condition.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/acme/helpdesk/infra/bench"
)

func main() {
	in := flag.String("in", "", "the benchmarks' output (`go test -bench` text)")
	out := flag.String("json", "", "where to write the report as JSON")
	quick := flag.Bool("quick", false, "a smoke run: check that every section has numbers, judge no target")
	command := flag.String("command", "make bench", "the command that produced the output, for the report")
	rie := flag.String("rie", "", "the Lambda Runtime Interface Emulator's version, for the report")
	loadStart := flag.String("load-start", "", "the load average when the run began (/proc/loadavg's first three fields), for the report")
	flag.Parse()
	m := bench.ThisMachine(context.Background(), *rie, *loadStart)
	if err := run(*in, *out, *command, m, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in, out, command string, m bench.Machine, quick bool) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	results, err := bench.Parse(f)
	_ = f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	rep, buildErr := bench.Build(results, m, command, quick, time.Now())
	if err := rep.WriteText(os.Stdout); err != nil {
		return err
	}
	if buildErr != nil {
		return buildErr
	}
	if out == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(b, '\n'), 0o644)
}
