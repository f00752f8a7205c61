// Package awsdefault gives the tools people run (the keys command) their
// AWS clients from the SDK's default configuration chain: profiles, SSO,
// shared files, environment. The Lambda functions use app's configuration
// from the environment instead, so that none of this is linked into them.
package awsdefault
