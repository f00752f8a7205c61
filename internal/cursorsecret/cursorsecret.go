package cursorsecret

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretReader reads a secret; *secretsmanager.Client implements it.
type SecretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// minSecretLen is the shortest secret string accepted as key material.
const minSecretLen = 32

// Key reads the secret named arn and derives the cursor key from it:
// SHA-256 of the secret string, which must be at least 32 characters.
func Key(ctx context.Context, sm SecretReader, arn string) ([]byte, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("read cursor key secret: %w", err)
	}
	secret := aws.ToString(out.SecretString)
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("cursor key secret must hold a string of at least %d characters", minSecretLen)
	}
	sum := sha256.Sum256([]byte(secret))
	return sum[:], nil
}

// Loader returns a function that reads the cursor key from the secret
// named arn (Key) through a Secrets Manager client built now, once, from
// awsCfg, at AWS_ENDPOINT_URL_SECRETS_MANAGER when that is set. It is the
// app.KeyLoader of the functions that page.
func Loader(awsCfg aws.Config, arn string) func(context.Context) ([]byte, error) {
	sm := secretsmanager.NewFromConfig(awsCfg, func(o *secretsmanager.Options) {
		if ep := os.Getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"); ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
	return func(ctx context.Context) ([]byte, error) { return Key(ctx, sm, arn) }
}
