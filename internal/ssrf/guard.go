package ssrf

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrDenied is wrapped by the error of every connection that Guard.Client
// refuses to open, whatever the request or client wraps it in; test for it
// with errors.Is.
var ErrDenied = errors.New("ssrf: destination not allowed")

// Guard decides which destinations outbound webhook requests may reach.
// Its methods may be called concurrently; do not change its fields while
// they run.
type Guard struct {
	// AllowPrivate relaxes the guard for local development: http:// URLs,
	// any port, and loopback/private addresses are allowed. Link-local
	// addresses (cloud metadata services) stay denied even then. Deployed
	// stacks never set it.
	AllowPrivate bool
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

func (g *Guard) resolver() *net.Resolver {
	if g.Resolver != nil {
		return g.Resolver
	}
	return net.DefaultResolver
}

// Connection limits of the clients that Client returns.
const (
	dialTimeout            = 10 * time.Second
	tlsHandshakeTimeout    = 10 * time.Second
	maxResponseHeaderBytes = 16 << 10
	maxIdleConns           = 64
	maxIdleConnsPerHost    = 4
	idleConnTimeout        = 90 * time.Second
)

// Client returns an HTTP client for webhook deliveries whose connections can
// reach only allowed addresses and ports.
//
// Every connection is checked by the dialer just before connect, on the IP
// address and port actually dialled (after name resolution, so that DNS
// rebinding cannot get around it): an address that Allowed denies, or a port
// other than 80 and 443, is refused with an error wrapping ErrDenied, unless
// AllowPrivate is set. The client never uses a proxy, whatever HTTP_PROXY
// and HTTPS_PROXY say, and never follows redirects: a 3xx response is
// returned as it is. timeout bounds each request, from dial to the end of
// the response body (15 s in production).
//
// The caller still bounds how much of a response body it reads.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  g.Resolver,
		Control:   g.control,
	}
	transport := &http.Transport{
		Proxy:                  nil, // never HTTP_PROXY/HTTPS_PROXY: the dialled address must be the target's
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           maxIdleConns,
		MaxIdleConnsPerHost:    maxIdleConnsPerHost,
		IdleConnTimeout:        idleConnTimeout,
		ExpectContinueTimeout:  time.Second,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
		Timeout: timeout,
	}
}

// linkLocal reports whether addr is link-local, where cloud metadata
// services live, or EC2's metadata service by its IPv6 address.
func linkLocal(addr netip.Addr) bool {
	// A zone names only the interface to leave by; the destination is the
	// same without it.
	addr = addr.Unmap().WithZone("")
	return addr.IsLinkLocalUnicast() || addr == ec2MetadataV6
}

// ec2MetadataV6 is the EC2 instance metadata service's IPv6 address.
var ec2MetadataV6 = netip.MustParseAddr("fd00:ec2::254")

// control is the dialer's Control function. It runs after the socket is
// created and before it connects, once for each address tried.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fmt.Errorf("%w: network %q", ErrDenied, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrDenied, address)
	}
	addr := ap.Addr().Unmap()
	if linkLocal(addr) {
		// Cloud metadata services, even for a developer on a cloud VM.
		return fmt.Errorf("%w: address %s is link-local", ErrDenied, addr)
	}
	if g.AllowPrivate {
		return nil
	}
	// The address as dialled, not addr: Unmap drops the zone of an
	// IPv4-mapped address, and Allowed refuses zones.
	if !Allowed(ap.Addr()) {
		return fmt.Errorf("%w: address %s is not public", ErrDenied, ap.Addr())
	}
	if p := ap.Port(); p != 80 && p != 443 {
		return fmt.Errorf("%w: port %d", ErrDenied, p)
	}
	return nil
}
