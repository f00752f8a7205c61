package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/internal/helpdesk"
)

// AttemptTimeout bounds one attempt of an AWS call. DynamoDB answers in
// milliseconds; an attempt stuck on a dead connection is abandoned and
// retried by the SDK, so that the request fails as UNAVAILABLE well within
// the function's timeout instead of being killed by it.
const AttemptTimeout = 2 * time.Second

// FunctionAWSConfig is the AWS configuration of a function, from the
// environment Lambda gives it: the region (AWS_REGION) and the role's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN); AWS_ENDPOINT_URL for an emulated endpoint such as
// LocalStack's, and AWS_MAX_ATTEMPTS, as the SDK reads them. That is all the SDK's default chain would find there,
// but the chain also links and initialises its other providers (shared
// files, SSO, STS, the instance metadata client), which cost a cold start
// about a fifth of a hello-world function's init (make bench); a function
// needs none of them. Each attempt is bounded by AttemptTimeout.
func FunctionAWSConfig() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	var errs []error
	if region == "" {
		errs = append(errs, errors.New("AWS_REGION must be set (Lambda sets it)"))
	}
	if id == "" || secret == "" {
		errs = append(errs, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them from the function's role)"))
	}
	attempts := 0
	if v := os.Getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("AWS_MAX_ATTEMPTS must be a whole number of at least 1, not %q", v))
		}
		attempts = n
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, os.Getenv("AWS_SESSION_TOKEN")),
		// The idle pool keeps a connection for each concurrent write of a
		// bulk update: at the SDK's default of 10 per host, the rest would
		// be closed after each bulk request and opened again, with a TLS
		// handshake each, by the next.
		HTTPClient: awshttp.NewBuildableClient().WithTimeout(AttemptTimeout).WithTransportOptions(func(tr *http.Transport) {
			tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, helpdesk.BulkWorkers)
		}),
		// Zero leaves each client's default.
		RetryMaxAttempts: attempts,
	}
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	if cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
		// Emulators such as DynamoDB Local send no response checksums.
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return cfg, nil
}

// DynamoDB returns the DynamoDB client of a function (FunctionAWSConfig).
func DynamoDB() (*dynamodb.Client, error) {
	cfg, err := FunctionAWSConfig()
	if err != nil {
		return nil, err
	}
	return newDynamoDB(cfg), nil
}

// newDynamoDB is the DynamoDB client on cfg, at AWS_ENDPOINT_URL_DYNAMODB
// when that is set.
func newDynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if ep := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}
