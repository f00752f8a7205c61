package s3local

import (
	"context"
	"crypto/rand"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/acme/helpdesk/internal/childproc"
)

const (
	// startTimeout bounds how long Start waits for the server to answer and
	// to create the bucket.
	startTimeout = 30 * time.Second
	// callTimeout bounds each of Start's calls while it waits.
	callTimeout = 2 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before it kills.
	stopTimeout = 5 * time.Second
	// portAttempts is how many ports Start tries when another process takes
	// the one it picked before versitygw binds it.
	portAttempts = 3
)

// Options configures Start. The zero value runs a server on an empty
// temporary folder with no bucket and discards its output.
type Options struct {
	// DataDir is the server's data folder: each bucket is a folder in it,
	// each object a file. It is created if missing and outlives the server.
	// Empty means a temporary folder that Stop removes.
	DataDir string
	// Bucket is created at start unless it exists already. Empty means no
	// bucket.
	Bucket string
	// Log receives versitygw's stdout and stderr. Nil discards them; the
	// tail is still kept for Start's error messages. Request logging is off,
	// and the secret is never in them.
	Log io.Writer
}

// Server is a running versitygw process. Its methods are safe for
// concurrent use.
type Server struct {
	cmd       *exec.Cmd
	endpoint  string
	accessKey string
	secret    string
	bucket    string
	tempDir   string // removed by Stop; empty when Options.DataDir was set
	out       *childproc.Output

	done    chan struct{} // closed when cmd.Wait has returned
	waitErr error         // cmd.Wait's result; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start runs versitygw (found by Find("")) on a free loopback port and
// returns once it answers a signed ListBuckets call and Options.Bucket
// exists, or fails after about 30 seconds, or when ctx ends, or as soon as
// versitygw exits. Errors include the tail of its output. Call Stop to end
// the server.
func Start(ctx context.Context, opts Options) (*Server, error) {
	bin, err := Find("")
	if err != nil {
		return nil, err
	}
	dataDir, tempDir := opts.DataDir, ""
	if dataDir == "" {
		if tempDir, err = os.MkdirTemp("", "s3local-"); err != nil {
			return nil, fmt.Errorf("s3local: creating a data folder: %w", err)
		}
		dataDir = tempDir
	} else {
		if dataDir, err = filepath.Abs(dataDir); err != nil {
			return nil, fmt.Errorf("s3local: %w", err)
		}
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("s3local: creating the data folder: %w", err)
		}
	}

	s, err := startIn(ctx, bin, dataDir, opts)
	if err != nil {
		if tempDir != "" {
			_ = os.RemoveAll(tempDir)
		}
		return nil, err
	}
	s.tempDir = tempDir
	return s, nil
}

// startIn launches versitygw on dataDir, trying another port when the
// chosen one was taken meanwhile.
func startIn(ctx context.Context, bin, dataDir string, opts Options) (*Server, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s, err := launch(bin, dataDir, port, opts.Log)
		if err != nil {
			return nil, err
		}
		s.bucket = opts.Bucket
		if err = s.waitReady(ctx); err == nil {
			if err = s.ensureBucket(ctx); err == nil {
				return s, nil
			}
		}
		s.kill()
		if attempt < portAttempts && s.out.Contains("address already in use") {
			continue
		}
		if s.out.Contains("xattr") {
			err = fmt.Errorf("%w; the file system of %s must support user extended attributes, "+
				"where versitygw keeps objects' metadata", err, dataDir)
		}
		return nil, err
	}
}

// launch starts versitygw without waiting for it to listen.
func launch(bin, dataDir string, port int, log io.Writer) (*Server, error) {
	accessKey, secret := newCredentials()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	out := &childproc.Output{Name: "versitygw", Log: log}
	cmd := exec.Command(bin, "--port", addr, "--region", region, "--quiet", "posix", dataDir)
	// The credentials and nothing else: the command line is readable by
	// every user of the machine, and an inherited VGW_* variable would
	// change the server (TLS, virtual hosts, read-only).
	cmd.Env = []string{
		"ROOT_ACCESS_KEY_ID=" + accessKey,
		"ROOT_SECRET_ACCESS_KEY=" + secret,
	}
	cmd.Dir = dataDir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = time.Second
	childproc.Isolate(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("s3local: starting versitygw: %w", err)
	}

	s := &Server{
		cmd:       cmd,
		endpoint:  "http://" + addr,
		accessKey: accessKey,
		secret:    secret,
		out:       out,
		done:      make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// newCredentials returns a random access key id and secret, shaped like
// AWS's (20 and 40 characters).
func newCredentials() (accessKey, secret string) {
	return "LOCAL" + rand.Text()[:15], (rand.Text() + rand.Text())[:40]
}

// waitReady polls the endpoint with a signed ListBuckets until it answers,
// which proves the credentials too.
func (s *Server) waitReady(ctx context.Context) error {
	client, err := NewClient(ctx, s.endpoint, s.accessKey, s.secret, func(o *s3.Options) {
		o.Retryer = aws.NopRetryer{}
	})
	if err != nil {
		return err
	}
	start := time.Now()
	delay := 10 * time.Millisecond
	for {
		callCtx, cancel := context.WithTimeout(ctx, callTimeout)
		_, err := client.ListBuckets(callCtx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}
		timer := time.NewTimer(delay)
		select {
		case <-s.done:
			timer.Stop()
			return fmt.Errorf("s3local: versitygw exited before it was ready (%v); %s", s.waitErr, s.out.Describe())
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("s3local: versitygw at %s not ready after %s (%w; last call: %v); %s",
				s.endpoint, time.Since(start).Round(time.Millisecond), context.Cause(ctx), err, s.out.Describe())
		case <-timer.C:
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

// ensureBucket creates the bucket unless it exists. A bucket from an
// earlier start on the same data folder is owned by that start's access
// key, so creating it again would fail with BucketAlreadyExists; the root
// account can still use it, which HeadBucket checks.
func (s *Server) ensureBucket(ctx context.Context) error {
	if s.bucket == "" {
		return nil
	}
	client, err := NewClient(ctx, s.endpoint, s.accessKey, s.secret)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := client.HeadBucket(callCtx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err == nil {
		return nil
	}
	// Missing, or a name S3 refuses: CreateBucket's answer says which, where
	// HEAD's has no body to say it.
	if _, err := client.CreateBucket(callCtx, &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return fmt.Errorf("s3local: creating bucket %q: %w; %s", s.bucket, err, s.out.Describe())
	}
	return nil
}

// Endpoint returns the server's URL, http://127.0.0.1:PORT.
func (s *Server) Endpoint() string { return s.endpoint }

// Credentials returns the access key id and the secret the server accepts,
// new at every Start.
func (s *Server) Credentials() (accessKey, secret string) { return s.accessKey, s.secret }

// Bucket returns Options.Bucket, which exists once Start has returned.
func (s *Server) Bucket() string { return s.bucket }

// Done returns a channel that is closed once versitygw has exited, whether
// through Stop or on its own.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends the server: on Unix SIGTERM to its process group, then SIGKILL
// if it has not exited within 5 seconds; elsewhere it kills versitygw.
// Then it removes the temporary data folder, if Start made one. It returns
// an error if versitygw had already exited on its own or the folder could
// not be removed. Later calls return the first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			s.stopErr = fmt.Errorf("s3local: versitygw had already exited (%v); %s", s.waitErr, s.out.Describe())
		default:
			s.kill()
		}
		if s.tempDir != "" {
			if err := os.RemoveAll(s.tempDir); err != nil {
				s.stopErr = errors.Join(s.stopErr, fmt.Errorf("s3local: removing the data folder: %w", err))
			}
		}
	})
	return s.stopErr
}

// kill ends the process group and waits for versitygw to exit.
func (s *Server) kill() { childproc.Stop(s.cmd.Process, s.done, stopTimeout) }

// freePort returns a loopback TCP port nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("s3local: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
