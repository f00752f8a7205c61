package ssrf_test

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/helpdesk/internal/ssrf"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantMsg string // "" means the URL is accepted
	}{
		{"public IPv4 literal", "https://8.8.8.8/", ""},
		{"public IPv4 literal with path and query", "https://8.8.8.8/hooks/1?x=y", ""},
		{"explicit port 443", "https://8.8.8.8:443/", ""},
		{"explicit port 80", "https://8.8.8.8:80/", ""},
		{"public IPv6 literal", "https://[2606:4700::1111]/", ""},
		{"mapped public IPv6 literal", "https://[::ffff:8.8.8.8]/", ""},
		{"upper-case scheme", "HTTPS://8.8.8.8/", ""},

		{"empty", "", "is required"},
		{"blank", "  ", "is required"},
		{"unparsable", "https://8.8.8.8:port/", "is not a valid URL"},
		{"control character", "https://8.8.8.8/\x7f\n", "is not a valid URL"},
		{"relative", "/hooks/1", "must be an absolute URL"},
		{"scheme-relative", "//8.8.8.8/", "must be an absolute URL"},
		{"http", "http://8.8.8.8/", "must use https"},
		{"ftp", "ftp://8.8.8.8/", "must use https"},
		{"javascript", "javascript:alert(1)", "must use https"},
		{"no host", "https://", "must include a host"},
		{"opaque", "https:8.8.8.8", "must include a host"},
		{"port only", "https://:443/", "must include a host"},
		{"user info", "https://user:pw@8.8.8.8/", "must not include user info"},
		{"user only", "https://user@8.8.8.8/", "must not include user info"},
		{"fragment", "https://8.8.8.8/#x", "must not include a fragment"},
		{"empty fragment", "https://8.8.8.8/#", "must not include a fragment"},
		{"port 8443", "https://8.8.8.8:8443/", "must use port 443 or 80"},
		{"port 0443", "https://8.8.8.8:0443/", "must use port 443 or 80"},
		{"loopback literal", "https://127.0.0.1/", "must not point to a private or reserved address"},
		{"loopback v6 literal", "https://[::1]/", "must not point to a private or reserved address"},
		{"metadata service", "https://169.254.169.254/latest/meta-data", "must not point to a private or reserved address"},
		{"mapped private", "https://[::ffff:10.0.0.1]/", "must not point to a private or reserved address"},
		{"private", "https://192.168.0.1/", "must not point to a private or reserved address"},
		{"unspecified", "https://0.0.0.0/", "must not point to a private or reserved address"},
		{"zoned link-local", "https://[fe80::1%25eth0]/", "must not point to a private or reserved address"},
		{"escaped host", "https://%31%32%37.0.0.1/", "is not a valid URL"},
		{"decimal IPv4", "https://2130706433/", "has a host that is neither a valid IP address nor a host name"},
		{"short IPv4", "https://127.1/", "has a host that is neither a valid IP address nor a host name"},
		{"hex IPv4", "https://0x7f.0x1/", "has a host that is neither a valid IP address nor a host name"},
		{"octal IPv4", "https://0177.0.0.1/", "has a host that is neither a valid IP address nor a host name"},
		{"trailing-dot IPv4", "https://8.8.8.8./", "has a host that is neither a valid IP address nor a host name"},
		// The real resolver: localhost comes from /etc/hosts, with no network.
		{"localhost", "https://localhost/", "resolves only to private or reserved addresses"},
		{"unresolvable name", "https://nonexistent.invalid/", "has a host name that does not resolve"},
	}
	g := &ssrf.Guard{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkURL(t, g, tt.url, tt.wantMsg)
		})
	}
}

func TestCheckURLAllowPrivate(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantMsg string
	}{
		{"http loopback with port", "http://127.0.0.1:8080/hook", ""},
		{"https localhost", "https://localhost:8443/hook", ""},
		{"private", "http://10.0.0.1/", ""},
		// Deliveries could never reach it, so it is refused at once.
		{"metadata service", "http://169.254.169.254/", "must not point to a link-local address (such as a cloud metadata service)"},
		{"metadata service mapped", "http://[::ffff:169.254.169.254]/", "must not point to a link-local address (such as a cloud metadata service)"},
		{"metadata service v6", "http://[fd00:ec2::254]/", "must not point to a link-local address (such as a cloud metadata service)"},
		// No lookup is made, so a name that does not resolve passes.
		{"unresolvable name", "http://nonexistent.invalid/", ""},
		{"ftp", "ftp://127.0.0.1/", "must use http or https"},
		{"empty", "", "is required"},
		{"relative", "hook", "must be an absolute URL"},
		{"no host", "http://", "must include a host"},
		{"user info", "http://user:pw@127.0.0.1:8080/", "must not include user info"},
	}
	g := &ssrf.Guard{AllowPrivate: true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkURL(t, g, tt.url, tt.wantMsg)
		})
	}
}

func TestCheckURLCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := (&ssrf.Guard{}).CheckURL(ctx, "https://nonexistent.invalid/")
	var ue *ssrf.URLError
	if errors.As(err, &ue) || !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckURL with a canceled context = %#v, want context.Canceled and no *URLError", err)
	}
}

// TestURLErrorOmitsURL: the error of an unparsable URL names what is
// wrong with it, not the URL, which may carry credentials.
func TestURLErrorOmitsURL(t *testing.T) {
	err := (&ssrf.Guard{}).CheckURL(t.Context(), "https://hook:s3cret@8.8.8.8:port/")
	var ue *ssrf.URLError
	if !errors.As(err, &ue) || ue.Message != "is not a valid URL" || ue.Err == nil {
		t.Fatalf("CheckURL = %#v, want an *URLError with a cause", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("the error repeats the URL: %v", err)
	}
}

func checkURL(t *testing.T, g *ssrf.Guard, url, wantMsg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.CheckURL(ctx, url)
	if wantMsg == "" {
		if err != nil {
			t.Fatalf("CheckURL(%q) = %v, want nil", url, err)
		}
		return
	}
	var ue *ssrf.URLError
	if !errors.As(err, &ue) {
		t.Fatalf("CheckURL(%q) = %#v, want *URLError", url, err)
	}
	if ue.Message != wantMsg {
		t.Fatalf("CheckURL(%q) message = %q, want %q (error: %v)", url, ue.Message, wantMsg, err)
	}
}

// checkURLMessages are the messages CheckURL documents by example and
// gives; a client sees them, so they must not echo the URL.
var checkURLMessages = []string{
	"is required", "is not a valid URL", "must be an absolute URL", "must use http or https", "must use https",
	"must include a host", "must not include user info", "must not include a fragment", "must use port 443 or 80",
	"must not point to a private or reserved address", "has a host that is neither a valid IP address nor a host name",
	"has a host name that does not resolve", "resolves only to private or reserved addresses",
	"must not point to a link-local address (such as a cloud metadata service)",
}

// FuzzCheckURL checks arbitrary webhook URLs, with and without
// AllowPrivate, against a resolver that answers from fuzzZone. Whatever
// CheckURL accepts must keep every promise of its doc comment, checked
// here on the URL itself: https (or http when relaxed), a host, no user
// info, no fragment, port 443 or 80, an IP literal that is Allowed, or a
// name that the resolver maps to at least one Allowed address; relaxed, no
// link-local IP literal. Lookups happen only for such names, never when
// relaxed. A name of the zone
// with a public address in an otherwise good URL must be accepted.
func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{
		"https://public.test/hook", "https://PUBLIC6.test:443/h?x=1", "https://mixed.test./", "https://private.test/",
		"https://metadata.test/latest", "https://mapped.test/", "https://nat64.test/", "https://absent.test/",
		"https://8.8.8.8/", "https://[::ffff:10.0.0.1]/", "https://user:pw@public.test/", "https://public.test/#x",
		"https://public.test:8443/", "http://public.test/", "https://127.1/", "https://0x7f.1/", "https://localhost/",
		"https://public.test:port/", "https:public.test", "//public.test/", "https://[fe80::1%25eth0]/", " ",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	var queries atomic.Int64
	resolver := zoneResolver(fuzzZone, &queries)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string, allowPrivate bool) {
		g := &ssrf.Guard{AllowPrivate: allowPrivate, Resolver: resolver}
		before := queries.Load()
		err := g.CheckURL(ctx, raw)
		looked := queries.Load() != before
		var bad *ssrf.URLError
		if err != nil && !errors.As(err, &bad) {
			t.Fatalf("CheckURL(%q) = %v, want nil or an *URLError", raw, err)
		}
		if again := g.CheckURL(ctx, raw); (again == nil) != (err == nil) || err != nil && again.(*ssrf.URLError).Message != bad.Message {
			t.Fatalf("CheckURL(%q) = %v, then %v", raw, err, again)
		}
		if bad != nil {
			if !slices.Contains(checkURLMessages, bad.Message) {
				t.Fatalf("CheckURL(%q) gave the message %q", raw, bad.Message)
			}
			if strings.Contains(raw, "://") && strings.Contains(bad.Error(), raw) {
				t.Fatalf("the error for %q repeats the URL, which may carry secrets: %v", raw, bad)
			}
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			if err == nil {
				t.Fatalf("CheckURL accepted %q, which does not parse: %v", raw, perr)
			}
			return
		}
		host := u.Hostname()
		literal, litErr := netip.ParseAddr(host)
		syntaxOK := u.Scheme == "https" && u.Opaque == "" && host != "" && u.User == nil && !strings.Contains(raw, "#") &&
			(u.Port() == "" || u.Port() == "443" || u.Port() == "80")
		if looked && (allowPrivate || !syntaxOK || litErr == nil) {
			t.Fatalf("CheckURL(%q) (relaxed %v) looked the host up", raw, allowPrivate)
		}
		if allowPrivate {
			if err == nil && ((u.Scheme != "https" && u.Scheme != "http") || u.Opaque != "" || host == "" || u.User != nil) {
				t.Fatalf("relaxed CheckURL accepted %q", raw)
			}
			if bare := literal.Unmap().WithZone(""); err == nil && litErr == nil && (bare.IsLinkLocalUnicast() || bare == netip.MustParseAddr("fd00:ec2::254")) {
				t.Fatalf("relaxed CheckURL accepted %q, whose address is link-local, which no delivery may reach", raw)
			}
			return
		}
		if err == nil {
			if !syntaxOK {
				t.Fatalf("CheckURL accepted %q (scheme %q, user %v, port %q)", raw, u.Scheme, u.User, u.Port())
			}
			if litErr == nil && !ssrf.Allowed(literal) {
				t.Fatalf("CheckURL accepted %q, whose address %v is not Allowed", raw, literal)
			}
			if litErr != nil {
				addrs, lerr := resolver.LookupNetIP(ctx, "ip", host)
				if lerr != nil || !slices.ContainsFunc(addrs, ssrf.Allowed) {
					t.Fatalf("CheckURL accepted %q, but %q resolves to %v (%v)", raw, host, addrs, lerr)
				}
			}
		}
		name := strings.ToLower(strings.TrimSuffix(host, ".")) + "."
		if syntaxOK && slices.ContainsFunc(fuzzZone[name], ssrf.Allowed) && err != nil {
			t.Fatalf("CheckURL(%q) = %v, but %s has a public address", raw, err, name)
		}
	})
}
