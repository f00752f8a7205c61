// Package auth makes API keys and checks them.
//
// A key is "hd_" followed by 43 URL-safe base64 characters (32 random
// bytes). Only its SHA-256 digest is stored; requests are authenticated by
// looking the digest up, with answers cached in memory for a short time so
// that a warm function rarely pays a read for it.
package auth
