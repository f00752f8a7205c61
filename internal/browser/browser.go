package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/childproc"
)

// EnvPath names the environment variable with the browser's path. When it
// is set (make unit sets it), a browser that cannot start fails the test;
// otherwise chromium-headless-shell is looked up on PATH and its absence
// skips the test.
const EnvPath = "HELPDESK_BROWSER"

// Binary is the browser's executable, from the Debian package of the same
// name.
const Binary = "chromium-headless-shell"

// Width and Height are the size of the window pages are laid out in and
// screenshots show.
const (
	Width  = 1280
	Height = 900
)

// Timeout bounds the wait for a page's condition and each protocol call.
const Timeout = 60 * time.Second

// Browser is a running headless Chromium, stopped when the test that
// started it ends.
type Browser struct {
	w    io.Writer // the browser's command pipe (its fd 3)
	wmu  sync.Mutex
	done chan struct{} // closed when the reply pipe ends: the browser is gone

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan reply
	pages   map[string]*Page // by DevTools session id
	readErr error
}

// message is a DevTools protocol message in either direction: a command
// (id, method, params), its reply (id, result or error) or an event
// (method, params), each with the session id of its page, if any.
type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    any             `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// reply is a command's result or error.
type reply struct {
	result json.RawMessage
	err    error
}

// New starts a browser for the test and stops it when the test ends. It
// skips the test when the browser is not installed and EnvPath is unset,
// and fails it when the browser does not start.
func New(tb testing.TB) *Browser {
	tb.Helper()
	path := os.Getenv(EnvPath)
	if path == "" {
		var err error
		if path, err = exec.LookPath(Binary); err != nil {
			tb.Skipf("no headless browser: %s is not on PATH; make browser installs it (make test runs this test with it)", Binary)
		}
	}
	b, err := start(tb, path)
	if err != nil {
		tb.Fatalf("headless browser %s (%s=%q): %v; make browser installs it", path, EnvPath, os.Getenv(EnvPath), err)
	}
	return b
}

// start runs the browser at path with its DevTools pipe on fds 3 and 4.
func start(tb testing.TB, path string) (*Browser, error) {
	cmdR, cmdW, err := os.Pipe() // commands: we write, the browser reads fd 3
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe() // replies and events: the browser writes fd 4
	if err != nil {
		return nil, err
	}
	args := []string{
		"--remote-debugging-pipe",
		"--user-data-dir=" + tb.TempDir(),
		fmt.Sprintf("--window-size=%d,%d", Width, Height),
		"--hide-scrollbars", "--mute-audio", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
		// Offline: nothing of Chromium's own, no proxy, no name but localhost.
		"--disable-background-networking", "--disable-component-update", "--disable-domain-reliability",
		"--no-pings", "--no-proxy-server", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // Chromium refuses to run as root in its sandbox
	}
	cmd := exec.Command(path, append(args, "about:blank")...)
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	stderr := &tailWriter{}
	cmd.Stderr = stderr
	childproc.Isolate(cmd)
	err = cmd.Start()
	cmdR.Close()
	outW.Close()
	if err != nil {
		cmdW.Close()
		outR.Close()
		return nil, err
	}
	b := &Browser{w: cmdW, done: make(chan struct{}), pending: map[int64]chan reply{}, pages: map[string]*Page{}}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	go b.read(outR)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.call(ctx, "", "Browser.close", nil, nil) // polite first; Stop makes sure
		childproc.Stop(cmd.Process, exited, 5*time.Second)
		cmdW.Close()
		outR.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := b.call(ctx, "", "Browser.getVersion", nil, nil); err != nil {
		return nil, fmt.Errorf("%w; its stderr ends: %s", err, stderr.String())
	}
	return b, nil
}

// read dispatches what the browser writes, one NUL-terminated JSON message
// at a time, until the pipe ends.
func (b *Browser) read(r io.Reader) {
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var raw []byte
		if raw, err = br.ReadBytes(0); err != nil {
			break
		}
		var m message
		var params json.RawMessage
		m.Params = &params
		if err = json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			err = fmt.Errorf("a DevTools message: %w", err)
			break
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				delete(b.pending, m.ID)
				rp := reply{result: m.Result}
				if m.Error != nil {
					rp.err = fmt.Errorf("%d %s", m.Error.Code, m.Error.Message)
				}
				ch <- rp
			}
		} else if p := b.pages[m.SessionID]; p != nil {
			p.event(m.Method, params)
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.readErr = err
	for id, ch := range b.pending {
		delete(b.pending, id)
		ch <- reply{err: fmt.Errorf("the browser is gone: %w", err)}
	}
	b.mu.Unlock()
	close(b.done)
}

// call sends a command to the browser (session "") or a page's session and
// decodes its result into result unless that is nil.
func (b *Browser) call(ctx context.Context, session, method string, params, result any) error {
	ch := make(chan reply, 1)
	b.mu.Lock()
	select {
	case <-b.done:
		b.mu.Unlock()
		return fmt.Errorf("%s: the browser is gone: %w", method, b.readErr)
	default:
	}
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()
	raw, err := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: params})
	if err == nil {
		b.wmu.Lock()
		_, err = b.w.Write(append(raw, 0))
		b.wmu.Unlock()
	}
	if err != nil {
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case rp := <-ch:
		if rp.err != nil {
			return fmt.Errorf("%s: %w", method, rp.err)
		}
		if result != nil {
			if err := json.Unmarshal(rp.result, result); err != nil {
				return fmt.Errorf("%s: its result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// tailWriter keeps the last few KB written to it: the browser's stderr,
// shown when it fails to start.
type tailWriter struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
