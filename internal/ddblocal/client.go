package ddblocal

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// defaultRegion is the region of local clients when AWS_REGION is unset.
// With -sharedDb the region does not choose a database; it only has to be
// set for requests to be signed.
const defaultRegion = "us-east-1"

// NewClient returns a DynamoDB client for a DynamoDB Local endpoint such as
// Server.Endpoint. It uses static dummy credentials and the region in
// AWS_REGION, or us-east-1, and reads no shared AWS config or credentials
// files, so a developer's AWS profile never reaches it. Request checksum
// calculation and response checksum validation are "when required" on this
// client's config only. optFns adjust the client's options, as for
// dynamodb.NewFromConfig. ctx is not used yet; building the client does no
// I/O.
func NewClient(ctx context.Context, endpoint string, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, error) {
	cfg, err := localConfig(endpoint)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, optFns...), nil
}

// NewStreamsClient returns a DynamoDB Streams client for a DynamoDB Local
// endpoint, configured like NewClient's. DynamoDB Local serves both APIs on
// the same port.
func NewStreamsClient(ctx context.Context, endpoint string) (*dynamodbstreams.Client, error) {
	cfg, err := localConfig(endpoint)
	if err != nil {
		return nil, err
	}
	return dynamodbstreams.NewFromConfig(cfg), nil
}

// localConfig returns the SDK config shared by the local clients.
func localConfig(endpoint string) (aws.Config, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return aws.Config{}, fmt.Errorf("ddblocal: endpoint %q must be an http:// or https:// URL with a host", endpoint)
	}
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = defaultRegion
	}
	return aws.Config{
		Region:                     region,
		Credentials:                credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint:               aws.String(endpoint),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, nil
}
