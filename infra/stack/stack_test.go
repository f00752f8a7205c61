package stack_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/helpdesk/infra/stack"
	_ "github.com/acme/helpdesk/infra/stack/internal/quietnode" // before the jsii kernel starts
	"github.com/acme/helpdesk/internal/config"
	"github.com/acme/helpdesk/internal/dynamo"
	"github.com/acme/helpdesk/internal/httpapi"
)

// synthesized is one stack of the test app, synthesized with the cdk-nag
// AwsSolutions checks.
type synthesized struct {
	id       string // the stack's construct id
	props    stack.Props
	tmpl     template
	errors   []message
	warnings []message
}

// message is a synthesis message (the assertions API returns them as
// cxapi.SynthesisMessage, deprecated in favour of a type the Go bindings
// do not have yet).
type message struct {
	ID    string `json:"id"`
	Entry struct {
		Data any `json:"data"`
	} `json:"entry"`
}

// messages converts what Annotations.Find* return.
func messages(found any) ([]message, error) {
	raw, err := json.Marshal(found)
	if err != nil {
		return nil, err
	}
	var out []message
	return out, json.Unmarshal(raw, &out)
}

// The two stacks, built once per test binary: the default one, and an
// ephemeral one with every option set.
var defaultStack, ephemeralStack *synthesized

const alarmTopic = "arn:aws:sns:eu-west-1:123456789012:helpdesk-alarms"

// TestMain synthesizes the stacks once for every test. (The jsii banner
// about the Node version is silenced by quietnode: the kernel starts in the
// CDK packages' init functions, too early for os.Setenv here.)
func TestMain(m *testing.M) {
	code, err := run(m)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "helpdesk-stack-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	assets := filepath.Join(tmp, "bin")
	for _, name := range stack.FunctionNames() {
		dir := filepath.Join(assets, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("not a binary: "+name), 0o755); err != nil {
			return 0, err
		}
	}

	// The app gets the context of cdk.json (the feature flags), so the
	// tests synthesize what cdk synth does.
	ctx, err := cdkJSONContext()
	if err != nil {
		return 0, err
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(tmp, "cdk.out")), Context: &ctx})
	defaultStack = &synthesized{id: "Helpdesk-dev", props: stack.Props{AssetsDir: assets}}
	ephemeralStack = &synthesized{id: "Helpdesk-test", props: stack.Props{
		Stage: "test", Ephemeral: true, AssetsDir: assets,
		ThrottleRate: 5, ThrottleBurst: 10,
		CorsOrigins: []string{"https://desk.example.com", "http://localhost:3000"},
		LogLevel:    "debug", AlarmTopicArn: alarmTopic,
		// The first of the two deploys that take an existing table the
		// activity record's two indexes.
		WithoutIndexes: []string{"history"},
		// Two retired indexes still on the table, named out of
		// dynamo.RetiredIndexes' order: the template follows that order
		// whatever the operator's.
		KeepIndexes: []string{"assigneestatus-created", "kind-updated"},
	}}
	s1 := stack.New(app, defaultStack.id, &defaultStack.props)
	s2 := stack.New(app, ephemeralStack.id, &ephemeralStack.props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)

	for _, x := range []struct {
		s awscdk.Stack
		r *synthesized
	}{{s1, defaultStack}, {s2, ephemeralStack}} {
		// Annotations synthesize the app (forced); the template reuses
		// that assembly.
		ann := assertions.Annotations_FromStack(x.s)
		nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		if x.r.errors, err = messages(ann.FindError(jsii.String("*"), nag)); err != nil {
			return 0, err
		}
		if x.r.warnings, err = messages(ann.FindWarning(jsii.String("*"), nag)); err != nil {
			return 0, err
		}
		raw, err := json.Marshal(assertions.Template_FromStack(x.s, nil).ToJSON())
		if err != nil {
			return 0, err
		}
		if err := json.Unmarshal(raw, &x.r.tmpl); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// cdkJSONContext returns the context of the repository's cdk.json.
func cdkJSONContext() (map[string]any, error) {
	root, err := findRoot()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return cfg.Context, nil
}

// template is a synthesized CloudFormation template.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      []string       `json:"DependsOn"`
}

// ofType returns the resources of a type by logical id.
func (t template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// functions maps each function's name (its stack.FunctionTag) to its
// logical id.
func (t template) functions(tb testing.TB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for id, r := range t.ofType("AWS::Lambda::Function") {
		name := ""
		for _, tag := range list(r.Properties["Tags"]) {
			if m := tag.(map[string]any); m["Key"] == stack.FunctionTag {
				name = m["Value"].(string)
			}
		}
		if name == "" {
			tb.Fatalf("function %s has no %s tag", id, stack.FunctionTag)
		}
		out[name] = id
	}
	return out
}

// ref returns the logical id of {"Ref": id}, or "".
func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

// getAtt returns the logical id and attribute of {"Fn::GetAtt": [id, attr]}.
func getAtt(v any) (id, attr string) {
	m, _ := v.(map[string]any)
	l, _ := m["Fn::GetAtt"].([]any)
	if len(l) != 2 {
		return "", ""
	}
	id, _ = l[0].(string)
	attr, _ = l[1].(string)
	return id, attr
}

// list returns v as a list: itself, a one-element list, or nil.
func list(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

func path(v any, keys ...string) any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func both(t *testing.T, f func(t *testing.T, s *synthesized)) {
	t.Run("default", func(t *testing.T) { f(t, defaultStack) })
	t.Run("ephemeral", func(t *testing.T) { f(t, ephemeralStack) })
}

// findRoot walks up from the working directory to go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestFunctionNamesMatchSources(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	names := stack.FunctionNames()
	slices.Sort(dirs)
	slices.Sort(names)
	if !slices.Equal(dirs, names) {
		t.Errorf("functions/ has %v; the stack deploys %v", dirs, names)
	}
}

func TestCDKJSON(t *testing.T) {
	root := repoRoot(t)
	raw, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ App, Output string }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.App != "go run ./infra/cdk" {
		t.Errorf("cdk.json app = %q", cfg.App)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".gitignore"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(strings.Split(string(ignore), "\n"), "/"+cfg.Output+"/") {
		t.Errorf("cdk.json output %q is not git-ignored", cfg.Output)
	}
}

func TestRoutes(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		fnNames := map[string]string{} // logical id -> name
		for name, id := range s.tmpl.functions(t) {
			fnNames[id] = name
		}
		integrations := s.tmpl.ofType("AWS::ApiGatewayV2::Integration")
		got := map[string]string{} // route key -> function name
		for id, r := range s.tmpl.ofType("AWS::ApiGatewayV2::Route") {
			key := r.Properties["RouteKey"].(string)
			parts := list(path(r.Properties["Target"], "Fn::Join"))
			if len(parts) != 2 || len(list(parts[1])) != 2 || list(parts[1])[0] != "integrations/" {
				t.Fatalf("route %s: target %v is not integrations/<ref>", id, r.Properties["Target"])
			}
			integ, ok := integrations[ref(list(parts[1])[1])]
			if !ok {
				t.Fatalf("route %s: target %v is not an integration of the template", key, r.Properties["Target"])
			}
			if integ.Properties["IntegrationType"] != "AWS_PROXY" || integ.Properties["PayloadFormatVersion"] != "2.0" {
				t.Errorf("route %s: integration %v, want AWS_PROXY with payload 2.0", key, integ.Properties)
			}
			fn, attr := getAtt(integ.Properties["IntegrationUri"])
			if attr != "Arn" || fnNames[fn] == "" {
				t.Fatalf("route %s: integration URI %v is not a function's ARN", key, integ.Properties["IntegrationUri"])
			}
			if _, dup := got[key]; dup {
				t.Errorf("route %s defined twice", key)
			}
			got[key] = fnNames[fn]
			if r.Properties["AuthorizationType"] != "NONE" {
				t.Errorf("route %s: authorization %v; the functions authenticate API keys themselves", key, r.Properties["AuthorizationType"])
			}
		}
		// A route per method each entry answers (HEAD beside GET, which
		// API Gateway does not match by itself), and $default, for what
		// no route matches, to the docs function: its JSON 404 and 405.
		want := map[string]string{"$default": string(httpapi.Docs)}
		for _, rt := range httpapi.Routes {
			for _, m := range rt.Methods() {
				want[m+" "+httpapi.BasePath+rt.Path] = string(rt.Endpoint)
			}
		}
		if got["HEAD "+httpapi.BasePath+"/tickets/{id}"] != string(httpapi.GetTicket) {
			t.Errorf("HEAD /tickets/{id} goes to %q", got["HEAD "+httpapi.BasePath+"/tickets/{id}"])
		}
		for key, fn := range want {
			if got[key] != fn {
				t.Errorf("route %s goes to %q, want %q", key, got[key], fn)
			}
		}
		for key := range got {
			if _, ok := want[key]; !ok {
				t.Errorf("extra route %s", key)
			}
		}
		if len(integrations) != len(httpapi.Endpoints) {
			t.Errorf("%d integrations, want one per endpoint (%d)", len(integrations), len(httpapi.Endpoints))
		}

		// API Gateway may invoke each HTTP function for its own routes
		// only; nothing else is invoked by it.
		perms := map[string]int{}
		for _, p := range s.tmpl.ofType("AWS::Lambda::Permission") {
			if p.Properties["Principal"] == "apigateway.amazonaws.com" {
				fn, _ := getAtt(p.Properties["FunctionName"])
				perms[fnNames[fn]]++
			}
		}
		wantPerms := map[string]int{string(httpapi.Docs): 1} // $default
		for _, rt := range httpapi.Routes {
			wantPerms[string(rt.Endpoint)] += len(rt.Methods())
		}
		if !maps.Equal(perms, wantPerms) {
			t.Errorf("API Gateway invoke permissions per function %v, want one per route %v", perms, wantPerms)
		}
	})
}

func TestStage(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		stages := s.tmpl.ofType("AWS::ApiGatewayV2::Stage")
		if len(stages) != 1 {
			t.Fatalf("%d stages, want 1", len(stages))
		}
		for _, st := range stages {
			p := st.Properties
			if p["StageName"] != "$default" || p["AutoDeploy"] != true {
				t.Errorf("stage %v %v, want $default with auto-deploy", p["StageName"], p["AutoDeploy"])
			}
			rate, burst := 50.0, 100.0
			if s.props.ThrottleRate != 0 {
				rate, burst = s.props.ThrottleRate, s.props.ThrottleBurst
			}
			if r, b := path(p, "DefaultRouteSettings", "ThrottlingRateLimit"), path(p, "DefaultRouteSettings", "ThrottlingBurstLimit"); r != rate || b != burst {
				t.Errorf("throttling %v/%v, want %v/%v", r, b, rate, burst)
			}
			dest, _ := getAtt(path(p, "AccessLogSettings", "DestinationArn"))
			if s.tmpl.Resources[dest].Type != "AWS::Logs::LogGroup" {
				t.Errorf("access logs go to %v, not a log group of the stack", path(p, "AccessLogSettings", "DestinationArn"))
			}
			var format map[string]string
			if err := json.Unmarshal([]byte(path(p, "AccessLogSettings", "Format").(string)), &format); err != nil {
				t.Fatalf("access log format is not JSON: %v", err)
			}
			for field, variable := range map[string]string{
				"requestId": "$context.requestId", "routeKey": "$context.routeKey", "status": "$context.status",
				"latency": "$context.responseLatency", "integrationError": "$context.integrationErrorMessage",
			} {
				if format[field] != variable {
					t.Errorf("access log %s = %q, want %q", field, format[field], variable)
				}
			}
		}
		for _, api := range s.tmpl.ofType("AWS::ApiGatewayV2::Api") {
			cors := api.Properties["CorsConfiguration"]
			if len(s.props.CorsOrigins) == 0 {
				if cors != nil {
					t.Errorf("CORS configured without origins: %v", cors)
				}
				continue
			}
			// Exactly the policy the local server applies, and no
			// AllowCredentials.
			want := map[string]any{
				"AllowOrigins":  s.props.CorsOrigins,
				"AllowMethods":  httpapi.CORS.AllowMethods,
				"AllowHeaders":  httpapi.CORS.AllowHeaders,
				"ExposeHeaders": httpapi.CORS.ExposeHeaders,
				"MaxAge":        httpapi.CORS.MaxAge.Seconds(),
			}
			got, _ := json.Marshal(cors)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Errorf("CORS configuration\n %s, want\n %s", got, wantJSON)
			}
		}
	})
}

func TestFunctions(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		fns := s.tmpl.functions(t)
		if len(fns) != len(stack.FunctionNames()) {
			t.Errorf("functions %v, want %v", slices.Collect(maps.Keys(fns)), stack.FunctionNames())
		}
		tableID := only(t, s.tmpl.ofType("AWS::DynamoDB::Table"))
		secretID := only(t, s.tmpl.ofType("AWS::SecretsManager::Secret"))
		filesID, _ := s.tmpl.filesBuckets(t)
		logGroups, roles := map[string]string{}, map[string]string{} // logical id -> function name
		for _, name := range stack.FunctionNames() {
			id, ok := fns[name]
			if !ok {
				t.Errorf("no function %s", name)
				continue
			}
			p := s.tmpl.Resources[id].Properties
			checks := map[string][2]any{
				"runtime":      {p["Runtime"], "provided.al2023"},
				"architecture": {fmt.Sprint(p["Architectures"]), "[arm64]"},
				"handler":      {p["Handler"], "bootstrap"},
				"log format":   {path(p, "LoggingConfig", "LogFormat"), "JSON"},
				"tracing":      {path(p, "TracingConfig", "Mode"), "Active"},
			}
			memory, timeout := 128.0, 10.0
			switch name {
			case stack.DispatchFunction:
				memory, timeout = 256, 300
			case stack.RetryFunction:
				timeout = 60
			}
			checks["memory"] = [2]any{p["MemorySize"], memory}
			checks["timeout"] = [2]any{p["Timeout"], timeout}
			for what, c := range checks {
				if c[0] != c[1] {
					t.Errorf("%s: %s %v, want %v", name, what, c[0], c[1])
				}
			}
			lg := ref(path(p, "LoggingConfig", "LogGroup"))
			if r := s.tmpl.Resources[lg]; r.Type != "AWS::Logs::LogGroup" || r.Properties["RetentionInDays"] != 30.0 {
				t.Errorf("%s: log group %s %v, want one of the stack with 30 days' retention", name, lg, r.Properties)
			}
			role, _ := getAtt(p["Role"])
			for _, own := range []struct {
				what, id string
				seen     map[string]string
			}{{"log group", lg, logGroups}, {"role", role, roles}} {
				if other, dup := own.seen[own.id]; dup {
					t.Errorf("%s shares %s %s with %s; want one of its own", name, own.what, own.id, other)
				}
				own.seen[own.id] = name
			}

			env, _ := path(p, "Environment", "Variables").(map[string]any)
			want := []string{"HELPDESK_TABLE"}
			if name == string(httpapi.Docs) {
				want = nil // serves an embedded document: no table
			}
			if slices.Contains(cursorSecretReaders, name) {
				want = append(want, "HELPDESK_CURSOR_KEY_SECRET_ARN")
				if ref(env["HELPDESK_CURSOR_KEY_SECRET_ARN"]) != secretID {
					t.Errorf("%s: HELPDESK_CURSOR_KEY_SECRET_ARN = %v, want the cursor secret", name, env["HELPDESK_CURSOR_KEY_SECRET_ARN"])
				}
			}
			if name != string(httpapi.Docs) && name != stack.DispatchFunction && name != stack.RetryFunction {
				want = append(want, "HELPDESK_RATE_LIMIT") // TestRateLimitGrant checks its value
			}
			if _, ok := wantFiles[name]; ok {
				want = append(want, "HELPDESK_FILES_BUCKET")
				if ref(env["HELPDESK_FILES_BUCKET"]) != filesID {
					t.Errorf("%s: HELPDESK_FILES_BUCKET = %v, want the files bucket", name, env["HELPDESK_FILES_BUCKET"])
				}
			}
			if len(s.props.CorsOrigins) > 0 && name != stack.DispatchFunction && name != stack.RetryFunction {
				want = append(want, "HELPDESK_CORS_ORIGINS")
				if origins := strings.Join(s.props.CorsOrigins, ","); env["HELPDESK_CORS_ORIGINS"] != origins {
					t.Errorf("%s: HELPDESK_CORS_ORIGINS = %v, want %s", name, env["HELPDESK_CORS_ORIGINS"], origins)
				}
			}
			if s.props.LogLevel != "" {
				want = append(want, "HELPDESK_LOG_LEVEL")
				if env["HELPDESK_LOG_LEVEL"] != s.props.LogLevel {
					t.Errorf("%s: HELPDESK_LOG_LEVEL = %v", name, env["HELPDESK_LOG_LEVEL"])
				}
			}
			got := slices.Sorted(maps.Keys(env))
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: environment %v, want exactly %v", name, got, want)
			}
			if _, set := env["HELPDESK_WEBHOOK_ALLOW_PRIVATE"]; set {
				t.Errorf("%s sets HELPDESK_WEBHOOK_ALLOW_PRIVATE", name)
			}
			if ref(env["HELPDESK_TABLE"]) != tableID && name != string(httpapi.Docs) {
				t.Errorf("%s: HELPDESK_TABLE = %v, want the table", name, env["HELPDESK_TABLE"])
			}
		}

		secret := s.tmpl.Resources[secretID].Properties["GenerateSecretString"]
		if path(secret, "PasswordLength") != 64.0 || path(secret, "ExcludePunctuation") != true {
			t.Errorf("cursor secret generated as %v, want 64 characters without punctuation", secret)
		}
	})
}

// only returns the logical id of the single resource in rs.
func only(t *testing.T, rs map[string]resource) string {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("%d resources, want 1", len(rs))
	}
	for id := range rs {
		return id
	}
	return ""
}

func TestStreamMapping(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		fns := s.tmpl.functions(t)
		tableID := only(t, s.tmpl.ofType("AWS::DynamoDB::Table"))
		queueID := only(t, s.tmpl.ofType("AWS::SQS::Queue"))
		mappings := s.tmpl.ofType("AWS::Lambda::EventSourceMapping")
		id := only(t, mappings)
		m := mappings[id]
		p := m.Properties
		if ref(p["FunctionName"]) != fns[stack.DispatchFunction] {
			t.Errorf("stream mapping invokes %v, want the dispatch function", p["FunctionName"])
		}
		if src, attr := getAtt(p["EventSourceArn"]); src != tableID || attr != "StreamArn" {
			t.Errorf("stream mapping source %v, want the table's stream", p["EventSourceArn"])
		}
		for key, want := range map[string]any{
			"StartingPosition":           "TRIM_HORIZON",
			"BatchSize":                  100.0,
			"BisectBatchOnFunctionError": true,
			"MaximumRetryAttempts":       10.0,
			"MaximumRecordAgeInSeconds":  86400.0,
		} {
			if p[key] != want {
				t.Errorf("stream mapping %s = %v, want %v", key, p[key], want)
			}
		}
		if fmt.Sprint(p["FunctionResponseTypes"]) != "[ReportBatchItemFailures]" {
			t.Errorf("FunctionResponseTypes = %v", p["FunctionResponseTypes"])
		}
		if dest, _ := getAtt(path(p, "DestinationConfig", "OnFailure", "Destination")); dest != queueID {
			t.Errorf("on-failure destination %v, want the failure queue", path(p, "DestinationConfig", "OnFailure"))
		}
		roleID, _ := getAtt(s.tmpl.Resources[fns[stack.DispatchFunction]].Properties["Role"])
		if !slices.Contains(m.DependsOn, roleID) {
			t.Errorf("stream mapping depends on %v, want the dispatch role (its policy holds the stream permissions)", m.DependsOn)
		}

		filters := list(path(p, "FilterCriteria", "Filters"))
		if len(filters) != 1 {
			t.Fatalf("filters %v, want one", filters)
		}
		var pattern struct {
			DynamoDB struct {
				Keys map[string]struct {
					S []struct {
						Prefix string `json:"prefix"`
					}
				}
			} `json:"dynamodb"`
		}
		raw := path(filters[0], "Pattern").(string)
		if err := json.Unmarshal([]byte(raw), &pattern); err != nil {
			t.Fatal(err)
		}
		keys := pattern.DynamoDB.Keys
		if len(keys) != 1 || len(keys[dynamo.Table.PartitionKey].S) != 1 {
			t.Fatalf("filter %s, want a prefix of the partition key %q", raw, dynamo.Table.PartitionKey)
		}
		prefix := keys[dynamo.Table.PartitionKey].S[0].Prefix
		// The filter lets through exactly what the dispatcher treats as a
		// ticket.
		key := func(pk string) map[string]lambdaevents.DynamoDBAttributeValue {
			return map[string]lambdaevents.DynamoDBAttributeValue{
				dynamo.Table.PartitionKey: lambdaevents.NewStringAttribute(pk),
				dynamo.Table.SortKey:      lambdaevents.NewStringAttribute("x"),
			}
		}
		if !dynamo.IsTicketKey(key(prefix + "tkt_abc")) {
			t.Errorf("filter prefix %q: a key it passes is no ticket to the dispatcher", prefix)
		}
		for _, other := range []string{"FIELD#cf_x", "KEY#ab", "WEBHOOK#whk_x", "EVENT#evt_x", "DELIVERY#whk_x#evt_x", "FIELDNAME#x"} {
			if strings.HasPrefix(other, prefix) || dynamo.IsTicketKey(key(other)) {
				t.Errorf("filter prefix %q and the dispatcher disagree on %q", prefix, other)
			}
		}
		// The dispatch function sends ticket.deleted for the removal of
		// the ticket's own item (sort key TICKET), which must pass the
		// filter; a comment's (sort key COMMENT#<id>, in the partition)
		// must not count as the ticket's removal.
		removal := func(sk string) lambdaevents.DynamoDBEventRecord {
			k := key(prefix + "tkt_abc")
			k[dynamo.Table.SortKey] = lambdaevents.NewStringAttribute(sk)
			return lambdaevents.DynamoDBEventRecord{EventName: "REMOVE", Change: lambdaevents.DynamoDBStreamRecord{Keys: k}}
		}
		if id, ok := dynamo.IsTicketRemoval(removal("TICKET")); !ok || id != "tkt_abc" {
			t.Errorf("filter prefix %q: the removal of ticket tkt_abc is %q, %v to the dispatcher", prefix, id, ok)
		}
		if comment := removal("COMMENT#cmt_abc"); !dynamo.IsTicketKey(comment.Change.Keys) {
			t.Errorf("filter prefix %q: a comment's record is not in its ticket's partition to the dispatcher", prefix)
		} else if _, ok := dynamo.IsTicketRemoval(comment); ok {
			t.Error("the removal of a comment is a ticket's removal to the dispatcher")
		}
		// It purges a deleted ticket's comments and history when the
		// ticket's tombstone (sort key DELETED, in its partition) is
		// removed by a purge or DynamoDB's expiry: that removal must pass
		// the filter too.
		if id, _, ok, err := dynamo.PurgeOf(removal("DELETED")); !ok || err != nil || id != "tkt_abc" {
			t.Errorf("filter prefix %q: the removal of ticket tkt_abc's tombstone is %q, %v, %v to the dispatcher", prefix, id, ok, err)
		}

		q := s.tmpl.Resources[queueID]
		if q.Properties["SqsManagedSseEnabled"] != true && q.Properties["KmsMasterKeyId"] == nil {
			t.Errorf("failure queue unencrypted: %v", q.Properties)
		}
		ssl := false
		for _, pol := range s.tmpl.ofType("AWS::SQS::QueuePolicy") {
			for _, st := range list(path(pol.Properties, "PolicyDocument", "Statement")) {
				if path(st, "Effect") == "Deny" && path(st, "Condition", "Bool", "aws:SecureTransport") == "false" {
					ssl = true
				}
			}
		}
		if !ssl {
			t.Error("failure queue does not deny requests without TLS")
		}
	})
}

func TestRetrySchedule(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		fns := s.tmpl.functions(t)
		rules := s.tmpl.ofType("AWS::Events::Rule")
		r := rules[only(t, rules)]
		if r.Properties["ScheduleExpression"] != "rate(1 minute)" {
			t.Errorf("schedule %v", r.Properties["ScheduleExpression"])
		}
		targets := list(r.Properties["Targets"])
		if len(targets) != 1 {
			t.Fatalf("targets %v", targets)
		}
		if fn, _ := getAtt(path(targets[0], "Arn")); fn != fns[stack.RetryFunction] {
			t.Errorf("schedule target %v, want the retry function", path(targets[0], "Arn"))
		}
	})
}

// The DynamoDB actions each function's code calls (internal/dynamo), on
// the table ("table"), all its indexes ("index"), one index by name
// ("index:<name>") or its stream ("stream").
var wantDynamo = map[string]map[string][]string{
	"list":         {"table": {"GetItem"}, "index": {"Query"}},
	"get":          {"table": {"GetItem"}},
	"create":       {"table": {"BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"}},
	"update":       {"table": {"BatchGetItem", "DeleteItem", "GetItem", "PutItem", "UpdateItem"}},
	"delete":       {"table": {"DeleteItem", "GetItem", "PutItem"}}, // PutItem: the tombstone, in the deletion's transaction
	"customfields": {"table": {"DeleteItem", "GetItem", "PutItem", "UpdateItem"}, "index": {"Query"}},
	"webhooks":     {"table": {"DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}, "index": {"Query"}},
	// A ticket's comments are in its partition, in no index: Query on the
	// table only; the redaction's transaction checks the ticket
	// (ConditionCheckItem).
	"comments": {"table": {"BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"}},
	// The activity record is read, never written: Query on its two
	// indexes only, and a history reads its ticket and tombstone
	// (BatchGetItem).
	"events":  {"table": {"BatchGetItem", "GetItem"}, "index:feed": {"Query"}, "index:history": {"Query"}},
	"openapi": {}, // a public route and an embedded document: not even the key lookup
	// The tombstone's read, restore's transaction (a Delete and a Put),
	// purge's mark and delete; the list from the kind index.
	"trash": {"table": {"DeleteItem", "GetItem", "PutItem", "UpdateItem"}, "index:kind-created": {"Query"}},
	// The stream consumer also reads a comment's ticket and a deleted
	// ticket's tombstone (GetItem), redacts a redacted comment's recorded
	// creation (GetItem, UpdateItem), purges a deleted ticket's comments (a
	// Query of its partition, then BatchWriteItem deletes) and, once its
	// tombstone expires, its history (a Query of the history index, which
	// "index" covers, then BatchWriteItem deletes).
	"dispatch": {
		"table":  {"BatchGetItem", "BatchWriteItem", "GetItem", "PutItem", "Query", "UpdateItem"},
		"index":  {"Query"},
		"stream": {"DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"},
	},
	"retry": {"table": {"BatchWriteItem", "GetItem", "PutItem", "UpdateItem"}, "index": {"Query"}},
	// A key and its id's pointer are put in one transaction; a
	// revocation updates; the list is a Query of the kind index only.
	"apikeys": {"table": {"GetItem", "PutItem", "UpdateItem"}, "index:kind-created": {"Query"}},
}

// cursorSecretReaders are the functions that page with sealed cursors: the
// only ones given the cursor key secret (environment and GetSecretValue).
var cursorSecretReaders = []string{string(httpapi.ListTickets), string(httpapi.Webhooks), string(httpapi.Comments), string(httpapi.Events), string(httpapi.Trash), string(httpapi.APIKeys)}

// keyUseRecorders are the functions that record API keys' use (every one
// with an authenticated route): each has one KeyUseRecord statement, an
// UpdateItem confined by its conditions to the lastUsedAt of key items,
// which wantDynamo leaves out.
var keyUseRecorders = []string{"list", "get", "create", "update", "delete", "customfields", "webhooks", "comments", "events", "trash", "apikeys"}

// checkKeyUseRecord fails unless st grants UpdateItem on the table only,
// on the conditions that confine it to the lastUsedAt of API key items.
func checkKeyUseRecord(t *testing.T, name, tableID string, st map[string]any) {
	t.Helper()
	actions, resources := list(st["Action"]), list(st["Resource"])
	if len(actions) != 1 || actions[0] != "dynamodb:UpdateItem" || len(resources) != 1 || scope(tableID, resources[0]) != "table" {
		t.Errorf("%s: KeyUseRecord grants %v on %v, want UpdateItem on the table", name, actions, resources)
	}
	want := `{"ForAllValues:StringEquals":{"dynamodb:Attributes":["pk","sk","lastUsedAt"]},"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["KEY#*"]},"StringEqualsIfExists":{"dynamodb:ReturnValues":"NONE"}}`
	if got, _ := json.Marshal(st["Condition"]); string(got) != want {
		t.Errorf("%s: KeyUseRecord conditions %s, want %s", name, got, want)
	}
}

var writeActions = []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete"}

// statements returns the statements of every policy attached to role.
func (t template) statements(role string) []map[string]any {
	var out []map[string]any
	for _, p := range t.ofType("AWS::IAM::Policy") {
		attached := false
		for _, r := range list(p.Properties["Roles"]) {
			attached = attached || ref(r) == role
		}
		if attached {
			for _, st := range list(path(p.Properties, "PolicyDocument", "Statement")) {
				out = append(out, st.(map[string]any))
			}
		}
	}
	return out
}

// scope names a DynamoDB resource of a statement: "table", "index" (all
// of them), "index:<name>", "stream", or what it is verbatim.
func scope(tableID string, res any) string {
	if id, attr := getAtt(res); id == tableID {
		switch attr {
		case "Arn":
			return "table"
		case "StreamArn":
			return "stream"
		}
	}
	parts := list(path(res, "Fn::Join"))
	if len(parts) == 2 && parts[0] == "" {
		elems := list(parts[1])
		if id, attr := getAtt(elems[0]); len(elems) == 2 && id == tableID && attr == "Arn" {
			switch name, _ := strings.CutPrefix(fmt.Sprint(elems[1]), "/index/"); {
			case elems[1] == "/index/*":
				return "index"
			case name != fmt.Sprint(elems[1]) && slices.ContainsFunc(dynamo.Table.Indexes, func(ix dynamo.Index) bool { return ix.Name == name }):
				return "index:" + name
			}
		}
	}
	raw, _ := json.Marshal(res)
	return string(raw)
}

func TestIAM(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		fns := s.tmpl.functions(t)
		tableID := only(t, s.tmpl.ofType("AWS::DynamoDB::Table"))
		secretID := only(t, s.tmpl.ofType("AWS::SecretsManager::Secret"))
		for name := range fns {
			if _, ok := wantDynamo[name]; !ok {
				t.Errorf("%s: no DynamoDB expectation in wantDynamo; state the function's actions (none is {})", name)
			}
		}
		for name := range wantDynamo {
			if _, ok := fns[name]; !ok {
				t.Errorf("wantDynamo names %s, which the stack does not deploy", name)
			}
		}
		for name, id := range fns {
			roleID, _ := getAtt(s.tmpl.Resources[id].Properties["Role"])
			role := s.tmpl.Resources[roleID]
			if role.Type != "AWS::IAM::Role" {
				t.Fatalf("%s: role %s is not a role of the stack", name, roleID)
			}
			if role.Properties["ManagedPolicyArns"] != nil {
				t.Errorf("%s: managed policies %v", name, role.Properties["ManagedPolicyArns"])
			}
			got := map[string][]string{}
			var secrets []any
			keyUse := 0
			for _, st := range s.tmpl.statements(roleID) {
				if st["Effect"] != "Allow" || st["Sid"] == stack.RateLimitSid {
					continue // TestRateLimitGrant checks the counters' statement
				}
				if st["Sid"] == "KeyUseRecord" {
					keyUse++
					checkKeyUseRecord(t, name, tableID, st)
					continue
				}
				for _, a := range list(st["Action"]) {
					action := a.(string)
					if strings.Contains(action, "*") {
						t.Errorf("%s: wildcard action %s", name, action)
					}
					switch {
					case strings.HasPrefix(action, "dynamodb:"):
						for _, res := range list(st["Resource"]) {
							where := scope(tableID, res)
							if where != "table" && where != "index" && !strings.HasPrefix(where, "index:") && where != "stream" {
								t.Errorf("%s: %s on %s; want the table, its indexes or its stream", name, action, where)
								continue
							}
							got[where] = append(got[where], strings.TrimPrefix(action, "dynamodb:"))
						}
					case strings.HasPrefix(action, "secretsmanager:"):
						if action != "secretsmanager:GetSecretValue" {
							t.Errorf("%s: %s", name, action)
						}
						secrets = append(secrets, list(st["Resource"])...)
					case strings.HasPrefix(action, "s3:"): // TestFilesIAM
					case strings.HasPrefix(action, "xray:"), strings.HasPrefix(action, "logs:"), strings.HasPrefix(action, "sqs:"):
					default:
						t.Errorf("%s: unexpected action %s", name, action)
					}
				}
			}
			for where := range got {
				slices.Sort(got[where])
				got[where] = slices.Compact(got[where])
			}
			if want := map[bool]int{true: 1}[slices.Contains(keyUseRecorders, name)]; keyUse != want {
				t.Errorf("%s: %d KeyUseRecord statements, want %d", name, keyUse, want)
			}
			if fmt.Sprint(got) != fmt.Sprint(wantDynamo[name]) {
				t.Errorf("%s: DynamoDB actions %v, want %v", name, got, wantDynamo[name])
			}
			if name == string(httpapi.ListTickets) || name == string(httpapi.GetTicket) || name == string(httpapi.Events) {
				for _, acts := range got {
					for _, a := range acts {
						if slices.Contains(writeActions, a) {
							t.Errorf("%s may %s", name, a)
						}
					}
				}
			}
			if slices.Contains(cursorSecretReaders, name) {
				if len(secrets) != 1 || ref(secrets[0]) != secretID {
					t.Errorf("%s: GetSecretValue on %v, want the cursor secret only", name, secrets)
				}
			} else if len(secrets) > 0 {
				t.Errorf("%s may read secrets %v", name, secrets)
			}
		}
	})
}

// TestRateLimitGrant: every function with an authenticated route may
// update the rate limit counters, and only them (a condition on the
// partition key), in a statement of its own, and gets the stack's default
// limit; the others neither.
func TestRateLimitGrant(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		tableID := only(t, s.tmpl.ofType("AWS::DynamoDB::Table"))
		for name, id := range s.tmpl.functions(t) {
			roleID, _ := getAtt(s.tmpl.Resources[id].Properties["Role"])
			var grants []map[string]any
			for _, st := range s.tmpl.statements(roleID) {
				if st["Sid"] == stack.RateLimitSid {
					grants = append(grants, st)
				}
			}
			env := path(s.tmpl.Resources[id].Properties, "Environment", "Variables")
			limit := path(s.tmpl.Resources[id].Properties, "Environment", "Variables", "HELPDESK_RATE_LIMIT")
			authenticated := slices.ContainsFunc(httpapi.Routes, func(rt httpapi.Route) bool { return string(rt.Endpoint) == name && !rt.Public() })
			if !authenticated {
				if len(grants) > 0 || limit != nil {
					t.Errorf("%s serves no API key, yet has %v and a rate limit %v", name, grants, env)
				}
				continue
			}
			if limit != strconv.Itoa(config.DefaultRateLimit) {
				t.Errorf("%s: HELPDESK_RATE_LIMIT %v, want the default %d", name, limit, config.DefaultRateLimit)
			}
			if len(grants) != 1 {
				t.Fatalf("%s: %d rate limit statements, want one", name, len(grants))
			}
			st := grants[0]
			res := list(st["Resource"])
			if st["Effect"] != "Allow" || fmt.Sprint(list(st["Action"])) != "[dynamodb:UpdateItem]" || len(res) != 1 || scope(tableID, res[0]) != "table" {
				t.Errorf("%s: rate limit statement %v, want UpdateItem on the table", name, st)
			}
			keys := list(path(st, "Condition", "ForAllValues:StringLike", "dynamodb:LeadingKeys"))
			if fmt.Sprint(keys) != "["+dynamo.RateKeyPrefix+"*]" {
				t.Errorf("%s: rate limit statement's leading keys %v, want only %s*", name, keys, dynamo.RateKeyPrefix)
			}
		}
	})
}

// functionLogicalIDs are the logical ids of the functions, by name. Those
// deployed before the comments function (commit 6d1a677) must keep theirs:
// CloudFormation replaces a resource whose logical id changes.
var functionLogicalIDs = map[string]string{
	"list":         "ListFunction7F4B561E",
	"get":          "GetFunctionC96F89C4",
	"create":       "CreateFunction1693F3C7",
	"update":       "UpdateFunction20288017",
	"delete":       "DeleteFunction9052F8B5",
	"customfields": "CustomfieldsFunctionF65EE33E",
	"webhooks":     "WebhooksFunction0AA2E282",
	"openapi":      "OpenapiFunctionF85064DF",
	"dispatch":     "DispatchFunction3BD6E874",
	"retry":        "RetryFunction31519513",
	// Added with the comments endpoint.
	"comments": "CommentsFunctionBAB66EF6",
	// Added with the events endpoint.
	"events": "EventsFunctionDE45FBEF",
	// Added with the trash.
	"trash": "TrashFunctionFCA66782",
	// Added with the apikeys endpoint.
	"apikeys": "ApikeysFunctionF1D22176",
}

// TestLogicalIDs guards deployed stacks against replacements: a resource
// whose logical id changes is deleted and created anew by CloudFormation
// (a retained one, such as the table, is orphaned instead), and a new
// function or endpoint must only add resources. testdata/logical-ids.json
// holds every resource of the two test stacks, logical id and type, as of
// the events endpoint: the 120 of each stack before the comments endpoint
// (commit 6d1a677), all unchanged, the 15 the comments endpoint added
// (function, role and policy, log group, alarms, routes, integration and
// invoke permissions), and the 11 the events endpoint added (the same for
// its two routes). Entries are only ever added to it, by hand, for
// resources a change adds on purpose.
func TestLogicalIDs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "logical-ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	var kept map[string]map[string]string // stack id -> logical id -> type
	if err := json.Unmarshal(raw, &kept); err != nil {
		t.Fatalf("testdata/logical-ids.json: %v", err)
	}
	both(t, func(t *testing.T, s *synthesized) {
		fns := s.tmpl.functions(t)
		if !maps.Equal(fns, functionLogicalIDs) {
			for _, name := range slices.Sorted(maps.Keys(functionLogicalIDs)) {
				if fns[name] != functionLogicalIDs[name] {
					t.Errorf("function %s: logical id %q, want %q", name, fns[name], functionLogicalIDs[name])
				}
			}
			for name, id := range fns {
				if _, ok := functionLogicalIDs[name]; !ok {
					t.Errorf("function %s (%s) has no pinned logical id in functionLogicalIDs", name, id)
				}
			}
		}
		want := kept[s.id]
		if len(want) == 0 {
			t.Fatalf("testdata/logical-ids.json has no resources of stack %s", s.id)
		}
		for _, id := range slices.Sorted(maps.Keys(want)) {
			switch r, ok := s.tmpl.Resources[id]; {
			case !ok:
				t.Errorf("%s %s is gone (removed, or its logical id changed): a deployed stack would lose it", want[id], id)
			case r.Type != want[id]:
				t.Errorf("%s is a %s, was a %s: a deployed stack would replace it", id, r.Type, want[id])
			}
		}
		var added []string
		for id := range s.tmpl.Resources {
			if _, ok := want[id]; !ok {
				added = append(added, id)
			}
		}
		if len(added) > 0 {
			slices.Sort(added)
			t.Logf("resources not in testdata/logical-ids.json (new; add them once deployed): %v", added)
		}
	})
}

func TestTable(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		tables := s.tmpl.ofType("AWS::DynamoDB::Table")
		tbl := tables[only(t, tables)]
		p := tbl.Properties
		d := dynamo.Table

		if got, want := keySchema(p["KeySchema"]), []keyElem{{d.PartitionKey, "HASH"}, {d.SortKey, "RANGE"}}; !slices.Equal(got, want) {
			t.Errorf("key schema %v, want %v", got, want)
		}
		attrs := map[string]any{}
		for _, a := range list(p["AttributeDefinitions"]) {
			attrs[path(a, "AttributeName").(string)] = path(a, "AttributeType")
		}
		// The indexes a staged deploy leaves out are missing, and so are
		// the attribute definitions only they use; the retired ones it
		// keeps follow, with v1's keys.
		wantIndexes := slices.DeleteFunc(slices.Clone(d.Indexes), func(ix dynamo.Index) bool { return slices.Contains(s.props.WithoutIndexes, ix.Name) })
		for _, ix := range dynamo.RetiredIndexes {
			if slices.Contains(s.props.KeepIndexes, ix.Name) {
				wantIndexes = append(wantIndexes, ix)
			}
		}
		wantAttrs := map[string]any{d.PartitionKey: "S", d.SortKey: "S"}
		for _, ix := range wantIndexes {
			wantAttrs[ix.PartitionKey], wantAttrs[ix.SortKey] = "S", "S"
		}
		if !maps.Equal(attrs, wantAttrs) {
			t.Errorf("attribute definitions %v, want %v", attrs, wantAttrs)
		}

		if got := s.tmpl.indexes(t); !slices.Equal(got, wantIndexes) {
			t.Errorf("indexes\n got %v\nwant %v", got, wantIndexes)
		}

		for what, c := range map[string][2]any{
			"billing":     {p["BillingMode"], "PAY_PER_REQUEST"},
			"stream view": {path(p, "StreamSpecification", "StreamViewType"), string(d.StreamView)},
			"PITR":        {path(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), true},
			"TTL":         {path(p, "TimeToLiveSpecification", "AttributeName"), d.TTLAttribute},
			"TTL enabled": {path(p, "TimeToLiveSpecification", "Enabled"), true},
		} {
			if c[0] != c[1] {
				t.Errorf("%s: %v, want %v", what, c[0], c[1])
			}
		}
		protected, policy := true, "Retain"
		if s.props.Ephemeral {
			protected, policy = false, "Delete"
		}
		if p["DeletionProtectionEnabled"] != protected || tbl.DeletionPolicy != policy {
			t.Errorf("deletion protection %v, policy %q; want %v, %q", p["DeletionProtectionEnabled"], tbl.DeletionPolicy, protected, policy)
		}
		for id, r := range s.tmpl.Resources {
			switch r.Type {
			case "AWS::SecretsManager::Secret", "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::S3::Bucket":
				if r.DeletionPolicy != policy {
					t.Errorf("%s %s: deletion policy %q, want %q", r.Type, id, r.DeletionPolicy, policy)
				}
			}
		}
	})
}

// keyElem is an element of a KeySchema.
type keyElem struct{ Name, Type string }

func keySchema(v any) []keyElem {
	var out []keyElem
	for _, k := range list(v) {
		out = append(out, keyElem{path(k, "AttributeName").(string), path(k, "KeyType").(string)})
	}
	return out
}

// indexes returns the GSIs of the template's table in its order. Each
// must have a partition and a sort key and project every attribute, as
// dynamo.Index describes.
func (t template) indexes(tb testing.TB) []dynamo.Index {
	tb.Helper()
	var out []dynamo.Index
	for _, tbl := range t.ofType("AWS::DynamoDB::Table") {
		for _, g := range list(tbl.Properties["GlobalSecondaryIndexes"]) {
			ks := keySchema(path(g, "KeySchema"))
			if len(ks) != 2 || ks[0].Type != "HASH" || ks[1].Type != "RANGE" {
				tb.Errorf("index %v: key schema %v", path(g, "IndexName"), ks)
				continue
			}
			if pt := path(g, "Projection", "ProjectionType"); pt != "ALL" {
				tb.Errorf("index %v projects %v, want ALL", path(g, "IndexName"), pt)
			}
			out = append(out, dynamo.Index{Name: path(g, "IndexName").(string), PartitionKey: ks[0].Name, SortKey: ks[1].Name})
		}
	}
	return out
}

// retiredIndexGrants returns the IAM policies and roles of the template
// that name a retired index's ARN (<table ARN>/index/<name>).
func (t template) retiredIndexGrants() []string {
	var out []string
	for id, r := range t.Resources {
		if r.Type != "AWS::IAM::Policy" && r.Type != "AWS::IAM::Role" {
			continue
		}
		raw, _ := json.Marshal(r.Properties)
		for _, ix := range dynamo.RetiredIndexes {
			if strings.Contains(string(raw), `/index/`+ix.Name+`"`) {
				out = append(out, id+" names "+ix.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestNoGrantOnRetiredIndexes: nothing reads a retired index, so no
// policy names one, kept ones included. (Query on <table>/index/*, of the
// functions that pick their index per request, covers every index the
// table has.)
func TestNoGrantOnRetiredIndexes(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		for _, g := range s.tmpl.retiredIndexGrants() {
			t.Errorf("%s", g)
		}
	})
}

// indexPlanV1 are the indexes of a table deployed with the index plan v1
// (internal/dynamo as of commit 2ff3888): its eleven ticket indexes, then
// due, feed and history. Pinned here: dynamo keeps only the eight that v2
// retired (dynamo.RetiredIndexes).
var indexPlanV1 = func() []dynamo.Index {
	var out []dynamo.Index
	for _, ix := range [][3]string{
		{"kind-created", "ix_kind", "ix_c"},
		{"kind-updated", "ix_kind", "ix_u"},
		{"status-created", "ix_status", "ix_c"},
		{"status-updated", "ix_status", "ix_u"},
		{"priority-created", "ix_priority", "ix_c"},
		{"priority-updated", "ix_priority", "ix_u"},
		{"statuspriority-created", "ix_sp", "ix_c"},
		{"assignee-created", "ix_asg", "ix_c"},
		{"assignee-updated", "ix_asg", "ix_u"},
		{"assigneestatus-created", "ix_asgs", "ix_c"},
		{"assigneepriority-created", "ix_asgp", "ix_c"},
		{"due", "ix_dueq", "ix_due"},
		{"feed", "ix_feed", "ix_pos"},
		{"history", "ix_tkt", "ix_pos"},
	} {
		out = append(out, dynamo.Index{Name: ix[0], PartitionKey: ix[1], SortKey: ix[2]})
	}
	return out
}()

// TestIndexPlanV2Upgrade synthesizes the deploys that docs/operating.md
// gives for a stack deployed with the index plan v1, in its order (the
// first deploy's KEEP_INDEXES, then the loop's array), and checks each
// against the table before it: the first creates assigneestatus-updated
// and keeps every retired index as v1 defined it, each later one deletes
// the next retired index, and the last leaves dynamo.Table's indexes. The
// three that stay populated (both keys are v2 keys, so every ticket write
// still pays for them) must be dropped before the five the migration
// empties (a key attribute of each is one v2 no longer writes).
func TestIndexPlanV2Upgrade(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	first := regexp.MustCompile(`make deploy STAGE=prod KEEP_INDEXES=([a-z,-]+)`).FindSubmatch(doc)
	loop := regexp.MustCompile(`retired=\(([^)]*)\)`).FindSubmatch(doc)
	if first == nil || loop == nil {
		t.Fatal("docs/operating.md: no first deploy with KEEP_INDEXES=… or no array retired=(…) for the later ones")
	}
	order := strings.Fields(string(loop[1]))
	if got := strings.Split(string(first[1]), ","); !slices.Equal(got, order) {
		t.Errorf("the first deploy keeps %v; the later ones drop %v", got, order)
	}
	var names []string
	for _, ix := range dynamo.RetiredIndexes {
		names = append(names, ix.Name)
	}
	if got := slices.Sorted(slices.Values(order)); !slices.Equal(got, slices.Sorted(slices.Values(names))) {
		t.Fatalf("the deploys drop %v, want each of dynamo.RetiredIndexes once: %v", order, names)
	}

	v2Attrs := map[string]bool{}
	for _, ix := range dynamo.Table.Indexes {
		v2Attrs[ix.PartitionKey], v2Attrs[ix.SortKey] = true, true
	}
	emptied, firstEmptied := 0, "" // the first dropped that the migration empties
	for _, name := range order {
		ix := dynamo.RetiredIndexes[slices.Index(names, name)]
		switch {
		case !v2Attrs[ix.PartitionKey] || !v2Attrs[ix.SortKey]:
			emptied++
			if firstEmptied == "" {
				firstEmptied = name
			}
		case firstEmptied != "":
			t.Errorf("%s, which stays populated, is dropped after %s, which the migration empties", name, firstEmptied)
		}
	}
	if emptied != 5 {
		t.Errorf("the migration empties %d retired indexes; docs/operating.md says five", emptied)
	}

	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	var stacks []awscdk.Stack
	for i := range order {
		props := stack.Props{AssetsDir: defaultStack.props.AssetsDir, KeepIndexes: order[i:]}
		stacks = append(stacks, stack.New(app, fmt.Sprintf("Upgrade%d", i+1), &props))
	}
	var steps []template
	for _, st := range stacks {
		raw, err := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
		if err != nil {
			t.Fatal(err)
		}
		var tmpl template
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, tmpl)
	}
	steps = append(steps, defaultStack.tmpl) // the last deploy keeps none

	before := indexPlanV1
	for i, tmpl := range steps {
		after := tmpl.indexes(t)
		var created, deleted []string
		for _, ix := range after {
			if !slices.Contains(before, ix) {
				created = append(created, ix.Name)
			}
		}
		for _, ix := range before {
			if !slices.Contains(after, ix) {
				deleted = append(deleted, ix.Name)
			}
		}
		want := [2][]string{{"assigneestatus-updated"}, nil} // created, deleted
		if i > 0 {
			want = [2][]string{nil, {order[i-1]}}
		}
		if !slices.Equal(created, want[0]) || !slices.Equal(deleted, want[1]) {
			t.Errorf("deploy %d creates %v and deletes %v; want %v and %v", i+1, created, deleted, want[0], want[1])
		}
		for _, g := range tmpl.retiredIndexGrants() {
			t.Errorf("deploy %d: %s", i+1, g)
		}
		before = after
	}
	if !slices.Equal(before, dynamo.Table.Indexes) {
		t.Errorf("after the last deploy the table has %v, want %v", before, dynamo.Table.Indexes)
	}
}

func TestAlarms(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		n := len(stack.FunctionNames())
		want := map[string]int{"Errors": n, "Throttles": n, "5xx": 1, "IteratorAge": 1, "ApproximateNumberOfMessagesVisible": 1}
		got := map[string]int{}
		fnNames := map[string]string{} // logical id -> name
		for name, id := range s.tmpl.functions(t) {
			fnNames[id] = name
		}
		// Every function, the comments function as the others, has an
		// Errors and a Throttles alarm of its own.
		perFunction := map[string][]string{} // name -> Lambda metrics alarmed on
		for id, a := range s.tmpl.ofType("AWS::CloudWatch::Alarm") {
			p := a.Properties
			if name, ok := p["MetricName"].(string); ok {
				got[name]++
				if p["Namespace"] == "AWS/Lambda" && (name == "Errors" || name == "Throttles") {
					dims := list(p["Dimensions"])
					if len(dims) != 1 || path(dims[0], "Name") != "FunctionName" || fnNames[ref(path(dims[0], "Value"))] == "" {
						t.Errorf("alarm %s: %s of %v, want one function of the stack", id, name, dims)
						continue
					}
					fn := fnNames[ref(path(dims[0], "Value"))]
					perFunction[fn] = append(perFunction[fn], name)
				}
			}
			for _, m := range list(p["Metrics"]) {
				if name, ok := path(m, "MetricStat", "Metric", "MetricName").(string); ok && name != "Count" {
					got[name]++
				}
			}
			actions := list(p["AlarmActions"])
			if s.props.AlarmTopicArn == "" && len(actions) > 0 {
				t.Errorf("alarm %s has actions %v without a topic", id, actions)
			}
			if s.props.AlarmTopicArn != "" && (len(actions) != 1 || actions[0] != s.props.AlarmTopicArn) {
				t.Errorf("alarm %s actions %v, want the alarm topic", id, actions)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("alarms by metric %v, want %v", got, want)
		}
		for _, name := range stack.FunctionNames() {
			metrics := perFunction[name]
			slices.Sort(metrics)
			if !slices.Equal(metrics, []string{"Errors", "Throttles"}) {
				t.Errorf("%s: alarms on %v, want one on Errors and one on Throttles", name, metrics)
			}
		}
	})
}

func TestOutputs(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		for _, name := range []string{stack.OutputAPIURL, stack.OutputTableName, stack.OutputFilesBucketName} {
			if _, ok := s.tmpl.Outputs[name]; !ok {
				t.Errorf("no output %s", name)
			}
		}
		raw, _ := json.Marshal(s.tmpl.Outputs[stack.OutputAPIURL])
		if !strings.Contains(string(raw), httpapi.BasePath) {
			t.Errorf("ApiUrl %s does not end in %s", raw, httpapi.BasePath)
		}
	})
}

func TestNag(t *testing.T) {
	both(t, func(t *testing.T, s *synthesized) {
		for _, e := range s.errors {
			t.Errorf("%s: %v", e.ID, e.Entry.Data)
		}
		t.Logf("cdk-nag AwsSolutions: %d errors, %d warnings", len(s.errors), len(s.warnings))
		for _, w := range s.warnings {
			t.Logf("warning %s: %v", w.ID, w.Entry.Data)
		}
	})
}

func TestValidate(t *testing.T) {
	for _, p := range []stack.Props{
		{Stage: "1dev"}, {Stage: "dev_1"}, {ThrottleRate: -1}, {ThrottleBurst: 2.5},
		{CorsOrigins: []string{"desk.example.com"}}, {CorsOrigins: []string{"https://x/path"}}, {CorsOrigins: []string{"*", "https://x"}},
		{LogLevel: "verbose"}, {WithoutIndexes: []string{"nope"}}, {RateLimit: 1_000_001},
		{KeepIndexes: []string{"nope"}},
		{KeepIndexes: []string{"status-updated"}},  // an index of the table, not a retired one
		{WithoutIndexes: []string{"kind-updated"}}, // a retired index, not the table's
		{KeepIndexes: []string{"kind-updated", "status-created", "kind-updated"}},
	} {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
	keepAll := make([]string, len(dynamo.RetiredIndexes))
	for i, ix := range dynamo.RetiredIndexes {
		keepAll[i] = ix.Name
	}
	for _, p := range []stack.Props{
		{}, {Stage: "prod-eu", CorsOrigins: []string{"*"}, LogLevel: "warn", WithoutIndexes: []string{"feed", "history"}},
		{KeepIndexes: keepAll}, {WithoutIndexes: []string{"history"}, KeepIndexes: []string{"kind-updated"}},
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}
