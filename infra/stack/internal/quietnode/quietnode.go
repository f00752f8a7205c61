// Package quietnode silences the jsii runtime's banner about the Node.js
// version (Node 20, which this project runs on, is past jsii's support
// window) for the tests that synthesize the stack. Import it for its side
// effect only.
//
// The jsii kernel process starts, and prints the banner, in the init
// functions of the CDK packages, before any TestMain runs, so the variables
// must be set in an init that runs earlier. Go initializes packages in
// import-path order among those whose imports are ready (the Go spec, since
// Go 1.21), and this package, which imports only os, sorts as
// github.com/acme/... before github.com/aws/... and github.com/cdklabs/....
// Values already in the environment are kept.
package quietnode

import "os"

func init() {
	for k, v := range map[string]string{
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION":  "1",
		"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
	} {
		if _, set := os.LookupEnv(k); !set {
			os.Setenv(k, v)
		}
	}
}
