package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/acme/helpdesk/internal/childproc"
)

// invokePath is where the emulator takes invocations, as Lambda's Invoke
// API does (the function name is always "function").
const invokePath = "/2015-03-31/functions/function/invocations"

const (
	// emulatorStartTimeout bounds how long an emulator may take to listen.
	emulatorStartTimeout = 15 * time.Second
	// emulatorStopTimeout is how long Stop waits after SIGTERM.
	emulatorStopTimeout = 3 * time.Second
	// logLimit is how much of each process's output is kept.
	logLimit = 256 << 10
)

// emulator is one function's bootstrap under aws-lambda-rie: one execution
// environment, which takes one invocation at a time and is initialised
// (cold start) on the first.
type emulator struct {
	name      string
	cmd       *exec.Cmd
	invokeURL string
	// runtimeAddr is where the emulator serves the runtime API to the
	// function.
	runtimeAddr string
	log         *processLog

	sem         chan struct{} // holds a token while an invocation runs
	invocations atomic.Int64

	done    chan struct{} // closed once the process has exited
	waitErr error         // cmd.Wait's result, read after done is closed

	stopOnce sync.Once
}

// invokeClient calls the emulators; invocations are bounded by
// invocationBound.
var invokeClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}}

// startEmulator runs rie with bootstrap on free loopback ports and returns
// once it accepts connections. env is the whole environment of the
// emulator, which hands it on to the function.
func startEmulator(ctx context.Context, rie, bootstrap, name string, env []string) (*emulator, error) {
	ctx, cancel := context.WithTimeout(ctx, emulatorStartTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		e, err := launchEmulator(rie, bootstrap, name, env)
		if err != nil {
			return nil, err
		}
		err = e.waitReady(ctx)
		if err == nil {
			return e, nil
		}
		e.stop()
		if attempt < 3 && e.log.contains("address already in use") {
			continue // another process took a port between probe and bind
		}
		return nil, err
	}
}

func launchEmulator(rie, bootstrap, name string, env []string) (*emulator, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	log := &processLog{}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap) // Lambda runs the bootstrap in its task folder
	cmd.Env = env
	cmd.Stdout = log // one writer: the function's and the emulator's lines stay in order
	cmd.Stderr = log
	cmd.WaitDelay = time.Second
	childproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie for %s: %w", name, err)
	}
	e := &emulator{
		name: name, cmd: cmd, invokeURL: "http://" + addr + invokePath, log: log,
		runtimeAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		sem:         make(chan struct{}, 1), done: make(chan struct{}),
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.done)
	}()
	return e, nil
}

// readySettle is how long an emulator must stay up once both its ports
// answer: it binds the runtime API port after starting the function, and
// panics if another process took that port first.
const readySettle = 20 * time.Millisecond

// waitReady polls the emulator's ports until both accept a connection and
// it is still running a moment later.
func (e *emulator) waitReady(ctx context.Context) error {
	addrs := []string{strings.TrimPrefix(strings.TrimSuffix(e.invokeURL, invokePath), "http://"), e.runtimeAddr}
	for len(addrs) > 0 {
		conn, err := net.DialTimeout("tcp", addrs[0], 200*time.Millisecond)
		if err == nil {
			_ = conn.Close()
			addrs = addrs[1:]
			continue
		}
		select {
		case <-e.done:
			return fmt.Errorf("aws-lambda-rie for %s exited before it listened (%v); its output:\n%s", e.name, e.waitErr, e.log.Tail(8<<10))
		case <-ctx.Done():
			return fmt.Errorf("aws-lambda-rie for %s not listening on %s: %w; its output:\n%s", e.name, addrs[0], context.Cause(ctx), e.log.Tail(8<<10))
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-e.done:
		return fmt.Errorf("aws-lambda-rie for %s exited once it listened (%v); its output:\n%s", e.name, e.waitErr, e.log.Tail(8<<10))
	case <-time.After(readySettle):
		return nil
	}
}

// invocationBound bounds one invocation's request to the emulator. The
// emulator ends an invocation itself at the function's timeout
// (AWS_LAMBDA_FUNCTION_TIMEOUT, at most streamFunctionTimeout), so this is
// only a backstop against a wedged emulator.
const invocationBound = streamFunctionTimeout + 30*time.Second

// invoke sends one invocation and returns the function's result. Like an
// execution environment, the emulator takes one invocation at a time;
// others wait for it (a deployed function would start another
// environment instead). A caller that gives up (ctx ends) gets its answer
// at once, but, as in Lambda, the invocation runs on and the environment
// stays busy until it ends: the emulator panics when handed an invocation
// while it still runs one (rapidcore's Server.Invoke dereferences the nil
// reservation it gets then), which took one function's emulator down in
// the middle of load runs.
func (e *emulator) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: %w", e.name, context.Cause(ctx))
	case <-e.done:
		return nil, fmt.Errorf("invoke %s: aws-lambda-rie has exited (%v)", e.name, e.waitErr)
	}
	e.invocations.Add(1)
	type result struct {
		body []byte
		err  error
	}
	ended := make(chan result, 1)
	go func() {
		defer func() { <-e.sem }()
		runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), invocationBound)
		defer cancel()
		body, err := e.post(runCtx, payload)
		ended <- result{body, err}
	}()
	select {
	case r := <-ended:
		return r.body, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: %w", e.name, context.Cause(ctx))
	}
}

// post makes one invocation request to the emulator.
func (e *emulator) post(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.invokeURL, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := invokeClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.name, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: read result: %w", e.name, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke %s: the emulator answered %d: %.500s", e.name, res.StatusCode, body)
	}
	return body, nil
}

// stop ends the emulator and its function: SIGTERM to its process group
// (the emulator then kills the runtime), SIGKILL if it lingers.
func (e *emulator) stop() {
	e.stopOnce.Do(func() {
		childproc.Stop(e.cmd.Process, e.done, emulatorStopTimeout)
	})
}

// freePorts returns n distinct loopback TCP ports nothing listens on.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// checkBootstrap fails unless path is an executable built for this
// machine: an arm64 bootstrap, as deployed, cannot run on an amd64 host.
func checkBootstrap(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w (make e2e builds the bootstraps)", err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	want, known := elfMachines[runtime.GOARCH]
	if !known || runtime.GOOS != "linux" {
		return nil
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a Linux executable: %w", path, err)
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("%s is built for %v, but this machine is %s: build it with GOARCH=%s (make e2e does)", path, f.Machine, runtime.GOARCH, runtime.GOARCH)
	}
	return nil
}

var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM,
	"riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390,
}

// initReportMarker starts the line the emulator logs when a function's
// init phase (its cold start) has finished.
const initReportMarker = "INIT REPORT"

// processLog collects a process's output: it keeps the last logLimit
// bytes and counts the emulator's INIT REPORT lines. It is safe for
// concurrent use.
type processLog struct {
	mu          sync.Mutex
	tail        []byte
	cut         bool
	partial     []byte // the unfinished last line
	initReports int
}

// Write keeps p and counts the INIT REPORT lines it completes.
func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - logLimit; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
		l.cut = true
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if bytes.Contains(l.partial[:i], []byte(initReportMarker)) {
			l.initReports++
		}
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 64<<10 { // a runaway line: keep counting from its end
		l.partial = append([]byte(nil), l.partial[len(l.partial)-len(initReportMarker):]...)
	}
	return len(p), nil
}

// InitReports returns how many INIT REPORT lines were written.
func (l *processLog) InitReports() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.initReports
}

// Tail returns up to the last n bytes of the output.
func (l *processLog) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tail
	cut := l.cut
	if len(t) > n {
		t, cut = t[len(t)-n:], true
	}
	if cut {
		return "[…]" + string(t)
	}
	return string(t)
}

func (l *processLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.tail, []byte(s))
}
