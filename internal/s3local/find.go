package s3local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
		root, err := moduleRoot(wd)
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

// moduleRoot returns the nearest folder at or above dir that holds go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("no go.mod in " + dir + " or any folder above it")
		}
		d = parent
	}
}
