package ddblocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/acme/helpdesk/internal/childproc"
)

const (
	// startTimeout bounds how long Start waits for the endpoint to answer.
	startTimeout = 30 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before it kills.
	stopTimeout = 5 * time.Second
	// portAttempts is how many ports Start tries when it picks the port
	// itself and another process takes it first.
	portAttempts = 3
)

// Options configures Start. The zero value runs an in-memory database on a
// free port and discards java's output.
type Options struct {
	// JarDir is the folder holding DynamoDBLocal.jar. Empty means FindJar's
	// search: DYNAMODB_LOCAL_DIR, then the copy `make dynamodb-local`
	// installs under the module root.
	JarDir string
	// DBPath is the folder for the database file
	// (shared-local-instance.db); it is created if missing and the data
	// outlives the server. Empty means the database lives in memory and is
	// lost on Stop.
	DBPath string
	// Port is the TCP port to listen on. Zero picks a free one.
	Port int
	// Log receives java's stdout and stderr. Nil discards them; the tail is
	// still kept for Start's error messages.
	Log io.Writer
}

// Server is a running DynamoDB Local process. Its methods are safe for
// concurrent use.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	out      *childproc.Output

	done    chan struct{} // closed when cmd.Wait has returned
	waitErr error         // cmd.Wait's result; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs DynamoDB Local with java and returns once it answers a
// ListTables call, or fails after about 30 seconds, or when ctx ends, or as
// soon as java exits. Errors include the tail of java's output. Call Stop to
// end the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	jar, err := FindJar(opts.JarDir)
	if err != nil {
		return nil, err
	}
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, fmt.Errorf("ddblocal: DynamoDB Local needs a Java 17 or later runtime on PATH: %w", err)
	}
	if opts.Port < 0 || opts.Port > 65535 {
		return nil, fmt.Errorf("ddblocal: port %d out of range", opts.Port)
	}
	dbPath := ""
	if opts.DBPath != "" {
		if dbPath, err = filepath.Abs(opts.DBPath); err != nil {
			return nil, fmt.Errorf("ddblocal: %w", err)
		}
		if err := os.MkdirAll(dbPath, 0o755); err != nil {
			return nil, fmt.Errorf("ddblocal: creating database folder: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			port, err = freePort()
		} else {
			err = checkPortFree(port)
		}
		if err != nil {
			return nil, err
		}
		s, err := launch(java, jar, dbPath, port, opts.Log)
		if err != nil {
			return nil, err
		}
		err = s.waitReady(ctx)
		if err == nil {
			return s, nil
		}
		_ = s.Stop()
		if opts.Port == 0 && attempt < portAttempts && portInUse(s.out) {
			continue
		}
		return nil, err
	}
}

// launch starts java without waiting for it to listen.
func launch(java, jar, dbPath string, port int, log io.Writer) (*Server, error) {
	args := []string{
		"-Djava.library.path=" + filepath.Join(filepath.Dir(jar), libDirName),
		// Only the C1 compiler: starts about a second faster, and a test or
		// development database never runs long enough to miss C2.
		"-XX:TieredStopAtLevel=1",
		"-jar", jar,
		"-port", strconv.Itoa(port),
		"-sharedDb",
		"-disableTelemetry",
	}
	// The working folder is where a crashing JVM writes hs_err_pid*.log.
	dir := os.TempDir()
	if dbPath == "" {
		args = append(args, "-inMemory")
	} else {
		args = append(args, "-dbPath", dbPath)
		dir = dbPath
	}

	out := &childproc.Output{Name: "java", Log: log}
	cmd := exec.Command(java, args...)
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	// Should java leave a child holding its output open, Wait still returns.
	cmd.WaitDelay = time.Second
	childproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("ddblocal: starting java: %w", err)
	}

	s := &Server{
		cmd:      cmd,
		endpoint: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		out:      out,
		done:     make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// waitReady polls the endpoint with ListTables until it answers.
func (s *Server) waitReady(ctx context.Context) error {
	cfg, err := localConfig(s.endpoint)
	if err != nil {
		return err
	}
	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
	})
	start := time.Now()
	delay := 25 * time.Millisecond
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListTables(callCtx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		cancel()
		if err == nil {
			return nil
		}
		timer := time.NewTimer(delay)
		select {
		case <-s.done:
			timer.Stop()
			return fmt.Errorf("ddblocal: DynamoDB Local exited before it was ready (%v); %s", s.waitErr, s.out.Describe())
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("ddblocal: DynamoDB Local at %s not ready after %s (%w; last call: %v); %s",
				s.endpoint, time.Since(start).Round(time.Millisecond), context.Cause(ctx), err, s.out.Describe())
		case <-timer.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// Endpoint returns the server's URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Done returns a channel that is closed once the java process has exited,
// whether through Stop or on its own.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends the server: on Unix SIGTERM to its process group, then SIGKILL
// if it has not exited within 5 seconds; elsewhere it kills java. It returns an error only if java had
// already exited on its own. Later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("ddblocal: DynamoDB Local had already exited (%v); %s", s.waitErr, s.out.Describe())
	default:
	}
	childproc.Stop(s.cmd.Process, s.done, stopTimeout)
	return nil
}

// freePort returns a TCP port nothing listens on. DynamoDB Local listens on
// every interface, so the probe does too.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("ddblocal: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// checkPortFree fails if something already listens on port, which would
// otherwise answer Start's readiness check in place of the new server.
func checkPortFree(port int) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("ddblocal: port %d is not free: %w", port, err)
	}
	return l.Close()
}

// portInUse reports whether java failed because its port was taken.
func portInUse(out *childproc.Output) bool {
	return out.Contains("BindException") || out.Contains("Address already in use")
}
