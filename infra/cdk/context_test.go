package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/acme/helpdesk/infra/stack"
)

func getter(ctx map[string]any) func(string) any {
	return func(k string) any { return ctx[k] }
}

func TestPropsFrom(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
		want stack.Props
	}{
		{"defaults", nil, stack.Props{Stage: stack.DefaultStage, AssetsDir: stack.DefaultAssetsDir}},
		{"command line", map[string]any{
			"stage": "prod", "ephemeral": "true", "assetsDir": "/tmp/bin", "throttleRate": "20", "throttleBurst": "40",
			"corsOrigins": "https://a.example.com, https://b.example.com,", "logLevel": "warn",
			"alarmTopicArn": "arn:aws:sns:eu-west-1:123456789012:alarms", "withoutIndexes": "feed,history",
			"keepIndexes": "kind-updated, assigneepriority-created", "rateLimit": "600",
		}, stack.Props{
			Stage: "prod", Ephemeral: true, AssetsDir: "/tmp/bin", ThrottleRate: 20, ThrottleBurst: 40, RateLimit: 600,
			CorsOrigins: []string{"https://a.example.com", "https://b.example.com"}, LogLevel: "warn",
			AlarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:alarms", WithoutIndexes: []string{"feed", "history"},
			KeepIndexes: []string{"kind-updated", "assigneepriority-created"},
		}},
		{"cdk.json", map[string]any{
			"stage": "qa", "ephemeral": false, "throttleRate": 7.0, "corsOrigins": []any{"*"}, "keepIndexes": []any{"status-created"},
		}, stack.Props{Stage: "qa", AssetsDir: stack.DefaultAssetsDir, ThrottleRate: 7, CorsOrigins: []string{"*"}, KeepIndexes: []string{"status-created"}}},
		{"empty strings", map[string]any{"stage": "", "ephemeral": "", "throttleRate": " ", "corsOrigins": ""},
			stack.Props{Stage: stack.DefaultStage, AssetsDir: stack.DefaultAssetsDir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := propsFrom(getter(tc.ctx))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestPropsFromRejects(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		want string // in the error
	}{
		{"stage", "prod_eu", "stage"},
		{"ephemeral", "maybe", "ephemeral"},
		{"throttleRate", "fast", "throttleRate"},
		{"throttleBurst", "-3", "throttleBurst"},
		{"rateLimit", "0", "rateLimit"},
		{"rateLimit", 12.5, "rateLimit"},
		{"rateLimit", "many", "rateLimit"},
		{"corsOrigins", "example.com", "CORS origin"},
		{"logLevel", "loud", "log level"},
		{"assetsDir", true, "assetsDir"},
		{"withoutIndexes", "kind-updated", "to leave out"}, // retired: not the table's any more
		{"keepIndexes", "status-updated", "to keep"},       // an index of the table, not a retired one
		{"keepIndexes", "kind-updated,kind-updated", "twice"},
		{"keepIndexes", 3.0, "keepIndexes"},
	} {
		_, err := propsFrom(getter(map[string]any{tc.key: tc.v}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%v: error %v, want one naming %q", tc.key, tc.v, err, tc.want)
		}
	}
}

func TestCheckAssets(t *testing.T) {
	dir := t.TempDir()
	err := checkAssets(dir)
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("empty assets dir: %v", err)
	}
	for _, name := range stack.FunctionNames() {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkAssets(dir); err != nil {
		t.Fatal(err)
	}
}
