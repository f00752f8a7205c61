package s3local

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// region is the one region the server runs in, so the one clients sign for.
const region = "us-east-1"

const (
	// dialTimeout bounds connecting to the server.
	dialTimeout = 2 * time.Second
	// answerTimeout bounds the wait for an answer's headers once the
	// request is sent. Reading a body is left to the caller's context, so
	// a large download is not cut off.
	answerTimeout = 10 * time.Second
)

// NewClient returns an S3 client for a local server such as
// Server.Endpoint, signing with the given credentials (Server.Credentials)
// in us-east-1. It addresses buckets by path (http://127.0.0.1:PORT/bucket/key),
// since a loopback address has no bucket subdomains, and reads no shared
// AWS config or credentials files, so a developer's AWS profile never
// reaches it. Request checksum calculation and response checksum
// validation are "when required", as for other emulators. Each attempt is
// bounded: 2 seconds to connect, 10 seconds for the answer's headers.
// optFns adjust the client's options, as for s3.NewFromConfig. ctx is not
// used yet; building the client does no I/O.
func NewClient(ctx context.Context, endpoint, accessKey, secret string, optFns ...func(*s3.Options)) (*s3.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3local: endpoint %q must be an http:// or https:// URL with a host", endpoint)
	}
	if accessKey == "" || secret == "" {
		return nil, fmt.Errorf("s3local: an access key id and a secret are required")
	}
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = answerTimeout })
	cfg := aws.Config{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		BaseEndpoint:               aws.String(endpoint),
		HTTPClient:                 httpClient,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	opts := append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, optFns...)
	return s3.NewFromConfig(cfg, opts...), nil
}
