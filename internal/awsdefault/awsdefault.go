package awsdefault

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB returns a DynamoDB client from the default AWS configuration
// (region, credentials, and AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB
// for a local or emulated endpoint), with response checksums checked only
// when required where an endpoint is overridden.
func DynamoDB(ctx context.Context) (*dynamodb.Client, error) {
	var opts []func(*config.LoadOptions) error
	if os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
		// Emulators such as DynamoDB Local send no response checksums.
		opts = append(opts,
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}
