// Package cursorsecret derives the list cursor key from an AWS Secrets
// Manager secret, as deployed stacks keep it. Only the functions that page
// (list and webhooks) import it, so that the others neither link the
// Secrets Manager client nor pay for its package initialisation at every
// cold start.
package cursorsecret
