package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/acme/helpdesk/internal/app"
	"github.com/acme/helpdesk/internal/helpdesk"
)

// TestLoad reads a function's environment: every process needs the
// table, and one that pages (it passes a KeyLoader) needs a cursor key or
// its secret.
func TestLoad(t *testing.T) {
	const key = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
	loader := app.KeyLoader(func(aws.Config, string) func(context.Context) ([]byte, error) { return nil })
	lambdaEnv := func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-1")
		t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		t.Setenv("HELPDESK_CURSOR_KEY_SECRET_ARN", "")
		t.Setenv("HELPDESK_LOG_LEVEL", "error")
	}
	files := func(aws.Config, string, *slog.Logger) helpdesk.FileStore { return nil }
	cases := []struct {
		name, table, cursorKey, bucket string
		loader                         app.KeyLoader
		files                          app.FilesOpener
		wantErr                        []string
	}{
		{"Pages", "helpdesk", key, "", loader, nil, nil},
		{"NoTable", "", key, "", nil, nil, []string{"HELPDESK_TABLE"}},
		{"PagingNeedsCursorKey", "t", "", "", loader, nil, []string{"HELPDESK_CURSOR_KEY"}},
		{"OthersNeedNoCursorKey", "t", "", "", nil, nil, nil},
		{"FilesNeedBucket", "t", key, "", loader, files, []string{"HELPDESK_FILES_BUCKET"}},
		{"Files", "t", key, "files", loader, files, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lambdaEnv(t)
			t.Setenv("HELPDESK_TABLE", tc.table)
			t.Setenv("HELPDESK_CURSOR_KEY", tc.cursorKey)
			t.Setenv("HELPDESK_FILES_BUCKET", tc.bucket)
			sys, _, err := app.Load(tc.loader, tc.files)
			if len(tc.wantErr) == 0 {
				if err != nil || sys.Config.Table != tc.table {
					t.Fatalf("Load = %+v, %v", sys, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not name %s", err, w)
				}
			}
		})
	}
}

// TestFunctionAWSConfig reads the environment as Lambda sets it, and
// refuses to start without what Lambda always sets.
func TestFunctionAWSConfig(t *testing.T) {
	set := func(region, id, secret, endpoint string) {
		t.Setenv("AWS_REGION", region)
		t.Setenv("AWS_ACCESS_KEY_ID", id)
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		t.Setenv("AWS_SESSION_TOKEN", "token")
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	}
	set("eu-west-1", "AKID", "secret", "")
	cfg, err := app.FunctionAWSConfig()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" || cfg.Region != "eu-west-1" {
		t.Fatalf("config %+v, credentials %+v, %v", cfg, creds, err)
	}
	if cfg.BaseEndpoint != nil || cfg.ResponseChecksumValidation == aws.ResponseChecksumValidationWhenRequired {
		t.Fatal("without AWS_ENDPOINT_URL the config must use AWS's endpoints and checksums")
	}

	set("eu-west-1", "AKID", "secret", "http://127.0.0.1:8000")
	if cfg, err = app.FunctionAWSConfig(); err != nil || aws.ToString(cfg.BaseEndpoint) != "http://127.0.0.1:8000" ||
		cfg.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenRequired {
		t.Fatalf("with AWS_ENDPOINT_URL: %+v, %v", cfg, err)
	}

	set("", "", "", "")
	_, err = app.FunctionAWSConfig()
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("without Lambda's environment: %v", err)
	}
}
