// Command keys creates, lists and revokes Helpdesk API keys in a table on
// any DynamoDB endpoint: AWS (with the usual AWS credentials and region) or
// a local one through AWS_ENDPOINT_URL. HELPDESK_TABLE names the table.
//
//	keys create -name NAME -permission read|write|admin
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
  keys create -name NAME -permission read|write|admin
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
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *name == "" || !helpdesk.Permission(*perm).Valid() {
			return fmt.Errorf("create needs -name and a -permission of read, write or admin\n%s", usage)
		}
		key, hash, id := auth.NewKey()
		k := &helpdesk.APIKey{ID: id, Name: *name, Permission: helpdesk.Permission(*perm), Hash: hash, CreatedAt: time.Now().UTC()}
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
		fmt.Fprintln(tw, "ID\tPERMISSION\tCREATED\tREVOKED\tNAME")
		for _, k := range keys {
			revoked := "-"
			if k.Revoked() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.Permission, k.CreatedAt.Format(time.RFC3339), revoked, k.Name)
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
