// Command hello is the cold-start baseline of the benchmarks: the smallest
// aws-lambda-go function, built with the same flags as the functions in
// the same `make bench` run, so that their INIT REPORT durations and sizes
// can be stated as ratios to it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
