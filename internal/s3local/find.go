package s3local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/acme/helpdesk/internal/childproc"
)

// EnvServer names the environment variable that gives the versitygw binary
// and overrides the search under the module root. `make test` sets it, so
// that a server which cannot start fails the tests instead of skipping them.
const EnvServer = "HELPDESK_S3_SERVER"

// binaryName is the file name `make s3-server` installs.
const binaryName = "versitygw"

// installHint tells the reader how to get the server.
const installHint = "run `make s3-server` at the module root to install it, " +
	"or set " + EnvServer + " to a versitygw binary"

// Find returns the absolute path of the versitygw binary: path if it is not
// empty, else the one named by HELPDESK_S3_SERVER, else the copy
// `make s3-server` installs, .local/bin/versitygw under the folder holding
// go.mod at or above the working directory. path and HELPDESK_S3_SERVER may
// also be a bare name looked up on PATH.
func Find(path string) (string, error) {
	if path == "" {
		path = os.Getenv(EnvServer)
	}
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", fmt.Errorf("s3local: finding versitygw: %w", err)
		}
		root, err := childproc.ModuleRoot(wd)
		if err != nil {
			return "", fmt.Errorf("s3local: finding versitygw: %w; %s", err, installHint)
		}
		path = filepath.Join(root, ".local", "bin", binaryName)
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("s3local: versitygw not found: %w; %s", err, installHint)
	}
	abs, err := filepath.Abs(found)
	if err != nil {
		return "", fmt.Errorf("s3local: %w", err)
	}
	return abs, nil
}
