package childproc

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// OutputLimit is how much of a helper process's output an Output keeps
// for error messages.
const OutputLimit = 32 << 10

// Output collects a helper process's output (set it as the command's
// Stdout and Stderr): it forwards everything to Log and keeps the last
// OutputLimit bytes, to say why the process failed. It is safe for
// concurrent use.
type Output struct {
	// Name is the process as error messages call it, e.g. "java".
	Name string
	// Log receives the whole output; nil discards it.
	Log io.Writer

	mu   sync.Mutex
	tail []byte
	cut  bool // whether the start of the output was dropped
}

// Write keeps the tail of p and passes p on to Log.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Log != nil {
		// A failing log must not stop the process; its output is also in
		// the tail.
		_, _ = o.Log.Write(p)
	}
	o.tail = append(o.tail, p...)
	if over := len(o.tail) - OutputLimit; over > 0 {
		o.tail = append(o.tail[:0], o.tail[over:]...)
		o.cut = true
	}
	return len(p), nil
}

// Describe returns the kept output for an error message.
func (o *Output) Describe() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	text := strings.TrimSpace(string(o.tail))
	switch {
	case text == "":
		return o.Name + " printed nothing"
	case o.cut:
		return o.Name + " output (last " + strconv.Itoa(OutputLimit>>10) + " KiB):\n" + text
	default:
		return o.Name + " output:\n" + text
	}
}

// Contains reports whether the kept output holds s.
func (o *Output) Contains(s string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Contains(string(o.tail), s)
}

// ModuleRoot returns the nearest folder at or above dir that holds go.mod:
// where make installs the helper programs, under .local/.
func ModuleRoot(dir string) (string, error) {
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
