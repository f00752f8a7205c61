package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// initReportLine matches the emulator's line for a finished init phase,
// e.g. "INIT REPORT(durationMs: 2.285000)".
var initReportLine = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initReportWait bounds how long ColdStart waits for the INIT REPORT line
// after the invocation has returned: the emulator writes it before it
// answers, but the copy of its output into the log may lag behind.
const initReportWait = 2 * time.Second

// ColdStart measures one cold start as the emulator reports it: it runs
// bootstrap under a fresh aws-lambda-rie with env (the whole environment,
// as FunctionEnv makes it), invokes it once with payload, and returns the
// duration of the INIT REPORT line the emulator logged — from starting the
// bootstrap until it asked for its first event — and the invocation's
// result. It stops the emulator before it returns.
func ColdStart(ctx context.Context, rie, bootstrap string, env []string, payload []byte) (time.Duration, []byte, error) {
	if err := checkBootstrap(bootstrap); err != nil {
		return 0, nil, err
	}
	name := filepath.Base(filepath.Dir(bootstrap))
	e, err := startEmulator(ctx, rie, bootstrap, name, env)
	if err != nil {
		return 0, nil, err
	}
	defer e.stop()
	result, err := e.invoke(ctx, payload)
	if err != nil {
		return 0, nil, err
	}
	deadline := time.Now().Add(initReportWait)
	for {
		if m := initReportLine.FindStringSubmatch(e.log.Tail(logLimit)); m != nil {
			ms, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return 0, nil, fmt.Errorf("e2e: %s: INIT REPORT duration %q: %w", name, m[1], err)
			}
			return time.Duration(ms * float64(time.Millisecond)), result, nil
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("e2e: %s logged no INIT REPORT; its output:\n%s", name, e.log.Tail(8<<10))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// FunctionEnv returns the environment Start gives function fn (an entry
// of Functions): DynamoDB Local at dynamoEndpoint, dummy credentials, and
// cursorKey (base64) for the functions that page.
func FunctionEnv(fn, dynamoEndpoint, cursorKey string) []string {
	return functionEnv(fn, dynamoEndpoint, cursorKey, "")
}

// DynamoDBEndpoint returns the URL of the stack's DynamoDB Local, for
// measurements that call it directly.
func (s *Stack) DynamoDBEndpoint() string { return s.ddb.Endpoint() }
