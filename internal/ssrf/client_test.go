package ssrf_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/ssrf"
)

// server is a real HTTP server on 127.0.0.1 that counts the requests it
// handles.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, tls bool, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	})
	if tls {
		s.Server = httptest.NewTLSServer(handler)
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(s.Close)
	return s
}

func ok(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }

func port(t *testing.T, s *server) string {
	t.Helper()
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

func get(t *testing.T, c *http.Client, rawURL string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		// Read the body here, before cancel runs.
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return resp, err
}

func TestClientDenies(t *testing.T) {
	plain := newServer(t, false, ok)
	tls := newServer(t, true, ok)
	tests := []struct {
		name string
		url  string
	}{
		{"loopback server", plain.URL + "/hook"},
		{"localhost name, other port", "https://localhost:" + port(t, tls) + "/"},
		{"mapped loopback literal", "http://[::ffff:127.0.0.1]:" + port(t, plain) + "/"},
		// Refused on the address alone: the port is one that is allowed.
		{"loopback on port 80", "http://127.0.0.1/"},
		{"localhost on port 443", "https://localhost/"},
	}
	c := (&ssrf.Guard{}).Client(5 * time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := get(t, c, tt.url)
			if err == nil {
				t.Fatalf("GET %s: status %d, want an error wrapping ErrDenied", tt.url, resp.StatusCode)
			}
			if !errors.Is(err, ssrf.ErrDenied) {
				t.Fatalf("GET %s: %v, want an error wrapping ErrDenied", tt.url, err)
			}
		})
	}
	if n := plain.hits.Load() + tls.hits.Load(); n != 0 {
		t.Errorf("servers were hit %d times, want 0", n)
	}
}

// TestControl checks the dialer's decisions on the concrete addresses it is
// given, including public ones that no test may dial.
func TestControl(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		network string
		address string
		allowed bool
	}{
		{"public v4 port 443", false, "tcp4", "8.8.8.8:443", true},
		{"public v4 port 80", false, "tcp", "1.1.1.1:80", true},
		{"public v6 port 443", false, "tcp6", "[2606:4700::1111]:443", true},
		{"mapped public", false, "tcp6", "[::ffff:8.8.8.8]:443", true},
		{"public port 8443", false, "tcp4", "8.8.8.8:8443", false},
		{"public port 22", false, "tcp4", "8.8.8.8:22", false},
		{"metadata service", false, "tcp4", "169.254.169.254:80", false},
		{"metadata service v6", false, "tcp6", "[fd00:ec2::254]:80", false},
		{"loopback", false, "tcp4", "127.0.0.1:443", false},
		{"mapped loopback", false, "tcp6", "[::ffff:127.0.0.1]:443", false},
		{"mapped public with a zone", false, "tcp6", "[::ffff:8.8.8.8%eth0]:443", false},
		{"private", false, "tcp4", "10.1.2.3:443", false},
		{"unspecified", false, "tcp4", "0.0.0.0:80", false},
		{"udp", false, "udp4", "8.8.8.8:443", false},
		{"host name", false, "tcp", "example.com:443", false},
		{"dev loopback any port", true, "tcp4", "127.0.0.1:8080", true},
		{"dev private", true, "tcp4", "192.168.1.10:3000", true},
		{"dev udp", true, "udp4", "127.0.0.1:53", false},
		{"dev metadata service v6 with a zone", true, "tcp6", "[fd00:ec2::254%eth0]:80", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ssrf.Control(&ssrf.Guard{AllowPrivate: tt.private})(tt.network, tt.address, nil)
			if tt.allowed && err != nil {
				t.Fatalf("control(%s, %s) = %v, want nil", tt.network, tt.address, err)
			}
			if !tt.allowed && !errors.Is(err, ssrf.ErrDenied) {
				t.Fatalf("control(%s, %s) = %v, want an error wrapping ErrDenied", tt.network, tt.address, err)
			}
		})
	}
}

func TestClientAllowPrivate(t *testing.T) {
	plain := newServer(t, false, ok)
	tls := newServer(t, true, ok)
	c := (&ssrf.Guard{AllowPrivate: true}).Client(5 * time.Second)
	// The TLS test server's certificate is for 127.0.0.1; trust it.
	c.Transport.(*http.Transport).TLSClientConfig = tls.Client().Transport.(*http.Transport).TLSClientConfig
	tests := []struct {
		name string
		srv  *server
		url  string
	}{
		{"http loopback", plain, plain.URL + "/hook"},
		{"https loopback", tls, tls.URL + "/hook"},
		{"localhost name", plain, "http://localhost:" + port(t, plain) + "/hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.srv.hits.Load()
			resp, err := get(t, c, tt.url)
			if err != nil {
				t.Fatalf("GET %s: %v", tt.url, err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Fatalf("GET %s: %d %q, want 200 \"ok\"", tt.url, resp.StatusCode, body)
			}
			if n := tt.srv.hits.Load() - before; n != 1 {
				t.Fatalf("server hit %d times, want 1", n)
			}
		})
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	target := newServer(t, false, ok)
	tests := []struct {
		name   string
		status int
	}{
		{"302", http.StatusFound},
		{"301", http.StatusMovedPermanently},
		{"307", http.StatusTemporaryRedirect},
		{"308", http.StatusPermanentRedirect},
	}
	c := (&ssrf.Guard{AllowPrivate: true}).Client(5 * time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redirector := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/elsewhere", tt.status)
			})
			resp, err := get(t, c, redirector.URL+"/hook")
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if loc := resp.Header.Get("Location"); loc != target.URL+"/elsewhere" {
				t.Fatalf("Location %q, want %q", loc, target.URL+"/elsewhere")
			}
			if n := redirector.hits.Load(); n != 1 {
				t.Fatalf("redirecting server hit %d times, want 1", n)
			}
			if n := target.hits.Load(); n != 0 {
				t.Fatalf("redirect target hit %d times, want 0", n)
			}
		})
	}
}

// offlineResolver is a real Go resolver that reads /etc/hosts but whose DNS
// queries all fail at once, so that tests send no DNS traffic.
func offlineResolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no DNS in this test")
		},
	}
}

// proxyChildEnv marks the child process of TestClientIgnoresProxyEnvironment.
const proxyChildEnv = "SSRF_TEST_PROXY_CHILD"

// TestClientIgnoresProxyEnvironment runs its requests in a child process
// started with HTTP_PROXY and HTTPS_PROXY naming a counting server: net/http
// reads the proxy environment once per process, so setting it in this one
// could come too late to be seen.
func TestClientIgnoresProxyEnvironment(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		proxyChild(t)
		return
	}
	proxy := newServer(t, false, ok)
	cmd := exec.Command(os.Args[0], "-test.run=^TestClientIgnoresProxyEnvironment$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		proxyChildEnv+"=1",
		"HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL,
		"HTTPS_PROXY="+proxy.URL, "https_proxy="+proxy.URL,
		"NO_PROXY=", "no_proxy=", "REQUEST_METHOD=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestClientIgnoresProxyEnvironment/") {
		t.Fatalf("child process ran no subtest:\n%s", out)
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("proxy hit %d times, want 0; child output:\n%s", n, out)
	}
}

func proxyChild(t *testing.T) {
	target := newServer(t, false, ok)
	g := &ssrf.Guard{AllowPrivate: true, Resolver: offlineResolver()}
	c := g.Client(5 * time.Second)
	t.Run("environment names the proxy", func(t *testing.T) {
		// Otherwise the cases below would pass whatever the client does.
		req := httptest.NewRequest(http.MethodGet, "http://webhook.invalid/hook", nil)
		if p, err := http.ProxyFromEnvironment(req); err != nil || p == nil || p.String() != os.Getenv("HTTP_PROXY") {
			t.Fatalf("ProxyFromEnvironment = %v, %v; want %s", p, err, os.Getenv("HTTP_PROXY"))
		}
	})
	t.Run("loopback target", func(t *testing.T) {
		resp, err := get(t, c, target.URL+"/hook")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		if resp.StatusCode != http.StatusOK || target.hits.Load() != 1 {
			t.Fatalf("status %d, target hits %d; want 200 and 1", resp.StatusCode, target.hits.Load())
		}
	})
	// Go never proxies requests for loopback hosts, so the case above would
	// pass with the environment's proxy too. A host name that is not
	// loopback would go to the proxy if the environment were honoured;
	// here it fails to resolve instead.
	for _, u := range []string{"http://webhook.invalid/hook", "https://webhook.invalid/hook"} {
		t.Run("named target "+u, func(t *testing.T) {
			if resp, err := get(t, c, u); err == nil {
				t.Fatalf("GET %s: status %d, want a lookup error", u, resp.StatusCode)
			}
		})
	}
}

func TestClientLimits(t *testing.T) {
	c := (&ssrf.Guard{AllowPrivate: true}).Client(300 * time.Millisecond)
	t.Run("response headers over 16 KiB", func(t *testing.T) {
		s := newServer(t, false, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Big", strings.Repeat("a", 20<<10))
		})
		if resp, err := get(t, c, s.URL); err == nil {
			t.Fatalf("status %d, want an error", resp.StatusCode)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		s := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		start := time.Now()
		resp, err := get(t, c, s.URL)
		if err == nil {
			t.Fatalf("status %d, want a timeout", resp.StatusCode)
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("error %v, want a timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v, want about 300ms", d)
		}
	})
}

// TestMetadataDeniedEvenWhenRelaxed: the relaxed guard still refuses
// link-local addresses, where cloud metadata services live.
func TestMetadataDeniedEvenWhenRelaxed(t *testing.T) {
	c := (&ssrf.Guard{AllowPrivate: true}).Client(time.Second)
	for _, url := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fe80::1]:80/", "http://[fd00:ec2::254]/"} {
		_, err := c.Get(url)
		if !errors.Is(err, ssrf.ErrDenied) {
			t.Errorf("%s: %v, want ErrDenied", url, err)
		}
	}
}
