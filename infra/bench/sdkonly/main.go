// Command sdkonly is a reference point of the cold-start benchmark: the
// hello-world function plus a DynamoDB client built from the environment
// by hand, so that its init, divided by hello's, is what the AWS SDK's
// DynamoDB packages alone cost a cold start — the floor under any function
// that uses DynamoDB through them, and so the baseline of their cold-start
// target: each such function's init is measured ÷ sdkonly's, started in
// turn with it in the same run.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	db := dynamodb.New(dynamodb.Options{
		Region:       os.Getenv("AWS_REGION"),
		Credentials:  credentials.NewStaticCredentialsProvider(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
		BaseEndpoint: aws.String(os.Getenv("AWS_ENDPOINT_URL")),
	})
	lambda.Start(func(context.Context) (string, error) { return db.Options().Region, nil })
}
