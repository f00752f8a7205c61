// Command migrate brings the tickets of a table on any DynamoDB endpoint to
// the current index layout (the index plan v2), in place: AWS with the usual
// AWS credentials and region, or a local DynamoDB through AWS_ENDPOINT_URL.
// HELPDESK_TABLE names the table.
//
//	migrate [-rate 100] [-segments 4] [-page 100]
//
// It is safe to run while the API serves (each rewrite is conditional on
// the ticket's version), to stop at any time and run again (progress is
// kept in the table), and to run twice (a ticket in the layout is not
// written). docs/table-design.md#migration says when to run it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"

	"github.com/acme/helpdesk/internal/awsdefault"
	"github.com/acme/helpdesk/internal/dynamo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out, logs io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(logs)
	rate := fs.Float64("rate", 100, "tickets rewritten per second at most")
	segments := fs.Int("segments", 4, "parts of the table scanned at once; keep it when resuming")
	page := fs.Int("page", 100, "items per scanned page; progress is saved after each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *rate <= 0 || *segments <= 0 || *page <= 0 {
		return fmt.Errorf("-rate, -segments and -page must be positive")
	}
	table := os.Getenv("HELPDESK_TABLE")
	if table == "" {
		return fmt.Errorf("HELPDESK_TABLE is not set")
	}
	db, err := awsdefault.DynamoDB(ctx)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(logs, nil)).With(slog.String("table", table), slog.String("migration", dynamo.Migration))
	stats, err := dynamo.Migrate(ctx, db, table, dynamo.MigrateOptions{Segments: *segments, Rate: *rate, PageSize: *page, Log: log})
	fmt.Fprintf(out, "scanned %d items, %d tickets: %d rewritten, %d raced a write and were read again, %d throttled calls waited out; %d segments resumed, %d already finished\n",
		stats.Scanned, stats.Tickets, stats.Rewritten, stats.Raced, stats.Throttled, stats.Resumed, stats.Finished)
	return err
}
