// Command sdkconfig is a reference point of the cold-start benchmark: the
// hello-world function plus a DynamoDB client from
// config.LoadDefaultConfig, as the functions built it before they read
// their configuration from the environment (app.FunctionAWSConfig), so
// that its init less sdkonly's is what the default configuration's
// credential chain (SSO, STS, IMDS and the rest, all linked and
// initialised) costs a cold start.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	lambda.Start(func(context.Context) (string, error) { return db.Options().Region, nil })
}
