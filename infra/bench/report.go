package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/acme/helpdesk/internal/pricing"
)

// Target is a limit a metric must stay within: its median at most Limit,
// or, for a Hard target (a correctness condition such as no errors under
// load), every run at most Limit.
type Target struct {
	Limit float64 `json:"limit"`
	Hard  bool    `json:"hard,omitempty"`
}

// met reports whether s is within t.
func (t Target) met(s Stat) bool {
	if t.Hard {
		return s.Max <= t.Limit
	}
	return s.Median <= t.Limit
}

// The verdicts of a target.
const (
	Pass = "PASS"
	Miss = "MISS"
)

// column is one metric of a table.
type column struct {
	header string
	unit   string // the metric's unit in the benchmark output
	digits int
	target *Target
	// judged, when set, limits target to some of the rows; the others show
	// the metric with neither target nor verdict. Nil: every row.
	judged *rowSet
}

// rowSet is the part of a table's rows a column's target applies to.
type rowSet struct {
	name string                // the rows, for the column's header
	has  func(sub string) bool // whether the row of sub-benchmark sub is one
}

// targetFor returns the target of the row of sub-benchmark sub: nil when
// the column has none or it does not apply to the row.
func (c column) targetFor(sub string) *Target {
	if c.judged != nil && !c.judged.has(sub) {
		return nil
	}
	return c.target
}

// tableSpec says which benchmark a table shows and how.
type tableSpec struct {
	title string
	bench string   // the benchmark; its sub-benchmarks are the rows
	rows  []string // the sub-benchmarks expected, all of them; nil means whatever ran
	first string   // header of the row names' column
	cols  []column
}

// Cell is one metric of one row.
type Cell struct {
	Metric  string  `json:"metric"`
	Stat    Stat    `json:"stat"`
	Target  *Target `json:"target,omitempty"`
	Verdict string  `json:"verdict,omitempty"`
	digits  int
}

// Row is one benchmark of a table.
type Row struct {
	Name  string `json:"name"`
	Cells []Cell `json:"cells"`
}

// Table is a section's table of measurements.
type Table struct {
	Title   string   `json:"title"`
	Columns []string `json:"columns"`
	Rows    []Row    `json:"rows"`
}

// Section is one of the report's parts.
type Section struct {
	Title  string   `json:"title"`
	Tables []Table  `json:"tables"`
	Notes  []string `json:"notes,omitempty"`
}

// Report is what a `make bench` run measured.
type Report struct {
	Date     time.Time `json:"date"`
	Command  string    `json:"command"`
	Quick    bool      `json:"quick"`
	Machine  Machine   `json:"machine"`
	Sections []Section `json:"sections"`
	Cost     *Cost     `json:"cost"`
	Missed   []string  `json:"missed"`
	Met      int       `json:"met"`
}

// ErrIncomplete is wrapped by Build's error when a section lacks numbers.
var ErrIncomplete = errors.New("the benchmark output lacks numbers")

// ErrHardTarget is wrapped by Build's error when a hard target (one that
// is a correctness condition) is missed.
var ErrHardTarget = errors.New("a correctness condition failed")

// Build assembles the report from the benchmark results. In a quick
// (smoke) run it checks only that every section has its numbers; in a
// full run it also judges the targets. Either way a missing number
// (ErrIncomplete) or a missed hard target (ErrHardTarget) is an error,
// returned with the report as far as it could be built.
func Build(results []Result, m Machine, command string, quick bool, now time.Time) (*Report, error) {
	rep := &Report{Date: now.UTC(), Command: command, Quick: quick, Machine: m, Missed: []string{}}
	var errs []error
	for _, sec := range sections() {
		s := Section{Title: sec.title, Notes: sec.notes}
		for _, spec := range sec.tables {
			t, err := buildTable(results, spec, quick)
			if err != nil {
				errs = append(errs, err)
			}
			for _, r := range t.Rows {
				for _, c := range r.Cells {
					switch {
					case c.Verdict == Pass:
						rep.Met++
					case c.Verdict == Miss && c.Target.Hard:
						errs = append(errs, fmt.Errorf("%w: %s, %s: %s is %g, must be at most %g", ErrHardTarget, sec.title, r.Name, c.Metric, c.Stat.Max, c.Target.Limit))
						fallthrough
					case c.Verdict == Miss:
						rep.Missed = append(rep.Missed, fmt.Sprintf("%s, %s: %s %.3g, target ≤ %g", sec.title, r.Name, c.Metric, c.Stat.Median, c.Target.Limit))
					}
				}
			}
			s.Tables = append(s.Tables, t)
		}
		rep.Sections = append(rep.Sections, s)
	}
	cost, err := estimateCost(results, pricing.Default, DefaultMix)
	if err != nil {
		errs = append(errs, err)
	}
	rep.Cost = cost
	return rep, errors.Join(errs...)
}

func buildTable(results []Result, spec tableSpec, quick bool) (Table, error) {
	t := Table{Title: spec.title, Columns: []string{spec.first}}
	for _, c := range spec.cols {
		t.Columns = append(t.Columns, header(c))
	}
	rows := spec.rows
	if rows == nil {
		for _, n := range names(results, spec.bench) {
			rows = append(rows, strings.TrimPrefix(strings.TrimPrefix(n, spec.bench), "/"))
		}
	}
	var missing []string
	if len(rows) == 0 {
		missing = append(missing, spec.bench)
	}
	for _, sub := range rows {
		name := spec.bench
		if sub != "" {
			name += "/" + sub
		}
		row := Row{Name: rowName(sub)}
		for _, c := range spec.cols {
			st, ok := Summarize(results, name, c.unit)
			if !ok {
				missing = append(missing, name+" "+c.unit)
				continue
			}
			target := c.targetFor(sub)
			cell := Cell{Metric: c.unit, Stat: st, Target: target, digits: c.digits}
			if target != nil && (!quick || target.Hard) {
				cell.Verdict = Miss
				if target.met(st) {
					cell.Verdict = Pass
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("%w: %s: %s", ErrIncomplete, spec.title, strings.Join(missing, ", "))
	}
	return t, nil
}

// header is the column's header with its target, and the rows it applies
// to when not all: "÷ hello (≤ 1.15 for openapi)".
func header(c column) string {
	if c.target == nil {
		return c.header
	}
	var rows string
	if c.judged != nil {
		rows = " for " + c.judged.name
	}
	if c.target.Hard {
		return fmt.Sprintf("%s (must be %g%s)", c.header, c.target.Limit, rows)
	}
	return fmt.Sprintf("%s (≤ %g%s)", c.header, c.target.Limit, rows)
}

// rowName shows a sub-benchmark name by its values: "filters=none/sort=x"
// becomes "none x".
func rowName(sub string) string {
	if sub == "" {
		return "-"
	}
	parts := strings.Split(sub, "/")
	for i, p := range parts {
		if _, v, ok := strings.Cut(p, "="); ok {
			parts[i] = v
		}
	}
	return strings.Join(parts, " ")
}

// String formats the cell as its median, the min–max over runs when they
// differ, and its verdict.
func (c Cell) String() string {
	f := fmt.Sprintf("%%.%df", c.digits)
	s := fmt.Sprintf(f, c.Stat.Median)
	if lo, hi := fmt.Sprintf(f, c.Stat.Min), fmt.Sprintf(f, c.Stat.Max); lo != hi {
		s += " (" + lo + "–" + hi + ")"
	}
	if c.Verdict != "" {
		s += " " + c.Verdict
	}
	return s
}

// WriteText prints the report: the machine, each section's tables, the
// cost estimate and the verdicts.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Helpdesk benchmarks, %s (%s)\n", r.Date.Format(time.DateTime+" MST"), r.Command)
	fmt.Fprintf(&b, "machine: %s\n", r.Machine)
	fmt.Fprintln(&b, "Each cell: median over the runs (min–max when they differ); ratios are to a baseline measured in the same run.")
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "\n== %s\n", s.Title)
		for _, t := range s.Tables {
			writeTable(&b, t)
		}
		if s.Title == costSection && r.Cost != nil {
			r.Cost.write(&b)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	fmt.Fprintln(&b)
	switch {
	case r.Quick:
		fmt.Fprintln(&b, "Smoke run (BENCH_QUICK=1): every section produced its numbers; the targets are judged only in a full run.")
	case len(r.Missed) == 0:
		fmt.Fprintf(&b, "Targets: all %d met.\n", r.Met)
	default:
		fmt.Fprintf(&b, "Targets: %d met, %d MISSED:\n", r.Met, len(r.Missed))
		for _, m := range r.Missed {
			fmt.Fprintf(&b, "  MISS %s\n", m)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(w io.Writer, t Table) {
	fmt.Fprintf(w, "\n%s\n", t.Title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+strings.Join(t.Columns, "\t")+"\t")
	for _, r := range t.Rows {
		cells := []string{r.Name}
		for _, c := range r.Cells {
			cells = append(cells, c.String())
		}
		fmt.Fprintln(tw, "  "+strings.Join(cells, "\t")+"\t")
	}
	_ = tw.Flush()
}
