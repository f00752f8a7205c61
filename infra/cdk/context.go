package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/acme/helpdesk/infra/stack"
)

// Context keys the app reads.
const (
	ctxStage         = "stage"
	ctxEphemeral     = "ephemeral"
	ctxAssetsDir     = "assetsDir"
	ctxThrottleRate  = "throttleRate"
	ctxThrottleBurst = "throttleBurst"
	ctxRateLimit     = "rateLimit"
	ctxCorsOrigins   = "corsOrigins"
	ctxLogLevel      = "logLevel"
	ctxAlarmTopicArn = "alarmTopicArn"
	ctxWithout       = "withoutIndexes"
	ctxKeep          = "keepIndexes"
)

// propsFrom reads the stack's props from context values, as get returns
// them: strings from the command line (-c key=value), and JSON values
// (strings, booleans, numbers, arrays) from cdk.json. Unset keys keep the
// stack's defaults, except the stage (it names the stack) and the assets
// directory (the app checks it), which are always set.
func propsFrom(get func(key string) any) (*stack.Props, error) {
	p := &stack.Props{}
	var err error
	str := func(key string) string {
		if err != nil {
			return ""
		}
		switch v := get(key).(type) {
		case nil:
			return ""
		case string:
			return strings.TrimSpace(v)
		default:
			err = fmt.Errorf("context %s: want a string, got %v", key, v)
			return ""
		}
	}
	if p.Stage = str(ctxStage); p.Stage == "" {
		p.Stage = stack.DefaultStage
	}
	if p.AssetsDir = str(ctxAssetsDir); p.AssetsDir == "" {
		p.AssetsDir = stack.DefaultAssetsDir
	}
	p.LogLevel = str(ctxLogLevel)
	p.AlarmTopicArn = str(ctxAlarmTopicArn)
	if err != nil {
		return nil, err
	}
	if p.Ephemeral, err = boolean(ctxEphemeral, get(ctxEphemeral)); err != nil {
		return nil, err
	}
	if p.ThrottleRate, err = number(ctxThrottleRate, get(ctxThrottleRate)); err != nil {
		return nil, err
	}
	if p.ThrottleBurst, err = number(ctxThrottleBurst, get(ctxThrottleBurst)); err != nil {
		return nil, err
	}
	rate, err := number(ctxRateLimit, get(ctxRateLimit))
	if err != nil {
		return nil, err
	}
	if p.RateLimit = int(rate); float64(p.RateLimit) != rate {
		return nil, fmt.Errorf("context %s: want a whole number of requests per minute, got %v", ctxRateLimit, rate)
	}
	if p.CorsOrigins, err = list(ctxCorsOrigins, get(ctxCorsOrigins)); err != nil {
		return nil, err
	}
	if p.WithoutIndexes, err = list(ctxWithout, get(ctxWithout)); err != nil {
		return nil, err
	}
	if p.KeepIndexes, err = list(ctxKeep, get(ctxKeep)); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("context: %w", err)
	}
	return p, nil
}

func boolean(key string, v any) (bool, error) {
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "", "false", "0", "no":
			return false, nil
		case "true", "1", "yes":
			return true, nil
		}
	}
	return false, fmt.Errorf("context %s: want true or false, got %v", key, v)
}

// number returns 0 (the stack's default) for an unset key.
func number(key string, v any) (float64, error) {
	var n float64
	switch v := v.(type) {
	case nil:
		return 0, nil
	case float64:
		n = v
	case string:
		if strings.TrimSpace(v) == "" {
			return 0, nil
		}
		var err error
		if n, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return 0, fmt.Errorf("context %s: want a number, got %q", key, v)
		}
	default:
		return 0, fmt.Errorf("context %s: want a number, got %v", key, v)
	}
	if n <= 0 {
		return 0, fmt.Errorf("context %s: want a positive number, got %v", key, v)
	}
	return n, nil
}

// list splits a comma-separated string, or takes a JSON array of strings.
func list(key string, v any) ([]string, error) {
	var parts []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		parts = strings.Split(v, ",")
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("context %s: want strings, got %v", key, e)
			}
			parts = append(parts, s)
		}
	default:
		return nil, fmt.Errorf("context %s: want a comma-separated string, got %v", key, v)
	}
	var out []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
