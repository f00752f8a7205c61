package ssrf

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// URLError is the error CheckURL returns for a webhook URL it rejects.
type URLError struct {
	// Message says what is wrong with the URL, e.g. "must use https". It
	// names no address, and is safe to show to API clients.
	Message string
	// Err is the underlying cause, such as the parse or lookup error, or nil.
	// It is for logs, not for API clients.
	Err error
}

// Error returns "webhook url " and the Message, followed by the cause, if
// any. It does not include the URL, which may carry secrets.
func (e *URLError) Error() string {
	s := "webhook url " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (e *URLError) Unwrap() error { return e.Err }

func reject(msg string, cause error) error {
	return &URLError{Message: msg, Err: cause}
}

// CheckURL validates a webhook URL when a subscription is created or
// changed. It returns nil or an *URLError, unless ctx ends during the
// lookup.
//
// The URL must be absolute, use https, have a host, and have no user info
// and no fragment; its port, if given, must be 443 or 80. A host that is an
// IP literal must be Allowed. A host name must resolve, and at least one of
// its addresses must be Allowed; a name resolving only to denied addresses
// is rejected. Host names whose last label is numeric (such as 2130706433 or
// 127.1, which some resolvers read as IPv4 addresses) are rejected. ctx
// bounds the lookup; if it ends first, the error is ctx's cause, not an
// *URLError.
//
// Passing CheckURL does not make a delivery safe: the name may resolve
// elsewhere by then. Deliveries must use Client, which checks every
// connection.
//
// With AllowPrivate, only the syntax is checked (scheme http or https, a
// host, no user info), an IP literal must not be link-local, and no lookup
// is made.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if strings.TrimSpace(raw) == "" {
		return reject("is required", nil)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// A *url.Error quotes the whole URL; keep only what is wrong in it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return reject("is not a valid URL", err)
	}
	if !u.IsAbs() {
		return reject("must be an absolute URL", nil)
	}
	if g.AllowPrivate {
		if u.Scheme != "https" && u.Scheme != "http" {
			return reject("must use http or https", nil)
		}
	} else if u.Scheme != "https" {
		return reject("must use https", nil)
	}
	host := u.Hostname()
	if u.Opaque != "" || host == "" {
		return reject("must include a host", nil)
	}
	if u.User != nil {
		return reject("must not include user info", nil)
	}
	if g.AllowPrivate {
		// Deliveries would never reach a link-local address (see
		// control); say so now rather than accept what cannot work.
		if addr, err := netip.ParseAddr(host); err == nil && linkLocal(addr) {
			return reject("must not point to a link-local address (such as a cloud metadata service)", nil)
		}
		return nil
	}
	// url.Parse splits at the first '#', so any '#' starts a fragment, even
	// an empty one that leaves u.Fragment empty.
	if strings.Contains(raw, "#") {
		return reject("must not include a fragment", nil)
	}
	if p := u.Port(); p != "" && p != "443" && p != "80" {
		return reject("must use port 443 or 80", nil)
	}

	if addr, err := netip.ParseAddr(host); err == nil {
		if !Allowed(addr) {
			return reject("must not point to a private or reserved address", nil)
		}
		return nil
	}
	if numericLastLabel(host) {
		return reject("has a host that is neither a valid IP address nor a host name", nil)
	}
	addrs, err := g.resolver().LookupNetIP(ctx, "ip", host)
	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the URL.
			return fmt.Errorf("ssrf: resolve webhook host: %w", context.Cause(ctx))
		}
		return reject("has a host name that does not resolve", err)
	}
	if len(addrs) == 0 {
		return reject("has a host name that does not resolve", nil)
	}
	for _, a := range addrs {
		if Allowed(a) {
			return nil
		}
	}
	return reject("resolves only to private or reserved addresses", nil)
}

// numericLastLabel reports whether the last label of host is a decimal or
// 0x-prefixed hexadecimal number. No top-level domain is numeric, so such a
// host is an IPv4 address in a legacy form (127.1, 0x7f.1, 2130706433),
// which netip.ParseAddr refuses but some resolvers accept.
func numericLastLabel(host string) bool {
	host = strings.TrimSuffix(host, ".")
	label := host[strings.LastIndexByte(host, '.')+1:]
	if label == "" {
		return false
	}
	digits := "0123456789"
	if len(label) > 2 && (label[:2] == "0x" || label[:2] == "0X") {
		label, digits = label[2:], "0123456789abcdefABCDEF"
	}
	return strings.Trim(label, digits) == ""
}
