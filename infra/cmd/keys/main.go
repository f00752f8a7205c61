// Command keys creates, lists and revokes Helpdesk API keys in a table on
// any DynamoDB endpoint: AWS (with the usual AWS credentials and region) or
// a local one through AWS_ENDPOINT_URL. HELPDESK_TABLE names the table.
//
//	keys create -name NAME -permission read|write|admin [-rate-limit N]
//	keys list
//	keys revoke KEY_ID
//	keys new        (prints a fresh key without storing it)
//
// A created key is printed once; only its SHA-256 digest is stored.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/acme/helpdesk/internal/auth"
	"github.com/acme/helpdesk/internal/awsdefault"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/helpdesk"
)

const usage = `usage:
  keys create -name NAME -permission read|write|admin [-rate-limit N]
  keys list
  keys revoke KEY_ID
  keys new
Environment: HELPDESK_TABLE (required except for new); AWS_ENDPOINT_URL for a local DynamoDB.`

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "keys:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	if args[0] == "new" {
		key, _, _ := auth.NewKey()
		_, err := fmt.Fprintln(out, key)
		return err
	}
	table := os.Getenv("HELPDESK_TABLE")
	if table == "" {
		return fmt.Errorf("HELPDESK_TABLE is not set\n%s", usage)
	}
	db, err := awsdefault.DynamoDB(ctx)
	if err != nil {
		return err
	}
	store := dynamo.New(db, table, nil)
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("create", flag.ContinueOnError)
		name := fs.String("name", "", "what the key is for")
		perm := fs.String("permission", "read", "read, write or admin")
		rate := fs.Int64("rate-limit", 0, "requests per minute; 0 for the stack's default")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		// The API's own rules (helpdesk.APIKeyDraft), so that a key made
		// here is one the API could have made.
		d := &helpdesk.APIKeyDraft{Name: name, Permission: (*helpdesk.Permission)(perm)}
		if *rate != 0 {
			d.RateLimit = rate
		}
		var problems helpdesk.Problems
		if d.Validate("", &problems); len(problems) > 0 {
			return fmt.Errorf("create: %s %s\n%s", problems[0].Field, problems[0].Message, usage)
		}
		key, hash, id := auth.NewKey()
		k := &helpdesk.APIKey{ID: id, Hash: hash, CreatedAt: helpdesk.Clock(nil).Now()}
		d.Apply(k)
		if err := store.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "id:         %s\npermission: %s\nkey:        %s\nThe key is shown only now; store it safely.\n", id, *perm, key)
		return err
	case "list":
		keys, err := store.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tPERMISSION\tRATE LIMIT\tCREATED\tLAST USED\tREVOKED\tNAME")
		for _, k := range keys {
			rate, used, revoked := "default", "-", "-"
			if k.RateLimit > 0 {
				rate = fmt.Sprintf("%d/min", k.RateLimit)
			}
			if !k.LastUsedAt.IsZero() {
				used = k.LastUsedAt.Format(time.RFC3339)
			}
			if k.Revoked() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Permission, rate, k.CreatedAt.Format(time.RFC3339), used, revoked, k.Name)
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 {
			return fmt.Errorf("revoke needs one key id\n%s", usage)
		}
		if err := store.RevokeAPIKey(ctx, args[1], time.Now().UTC()); err != nil {
			return err
		}
		_, err := fmt.Fprintf(out, "revoked %s (effective within %s everywhere)\n", args[1], auth.CacheTTL)
		return err
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}
