package ssrf

import "net/netip"

// deniedV4 are the IPv4 ranges a webhook may never reach.
var deniedV4 = mustPrefixes(
	"0.0.0.0/8",          // "this network", including the unspecified 0.0.0.0
	"10.0.0.0/8",         // private
	"100.64.0.0/10",      // carrier-grade NAT (shared address space)
	"127.0.0.0/8",        // loopback
	"169.254.0.0/16",     // link-local, including 169.254.169.254 (metadata)
	"172.16.0.0/12",      // private
	"192.0.0.0/24",       // IETF protocol assignments
	"192.0.2.0/24",       // documentation (TEST-NET-1)
	"192.168.0.0/16",     // private
	"198.18.0.0/15",      // benchmarking
	"198.51.100.0/24",    // documentation (TEST-NET-2)
	"203.0.113.0/24",     // documentation (TEST-NET-3)
	"224.0.0.0/4",        // multicast
	"240.0.0.0/4",        // reserved
	"255.255.255.255/32", // limited broadcast (also inside 240.0.0.0/4)
)

// globalV6 is the IPv6 global unicast space; nothing outside it is
// allocated for public use.
var globalV6 = netip.MustParsePrefix("2000::/3")

// deniedV6 are the IPv6 ranges a webhook may never reach. The ranges
// outside 2000::/3 are denied by globalV6 already, and are listed so that
// the policy reads in one place.
var deniedV6 = mustPrefixes(
	"::/128",          // unspecified
	"::1/128",         // loopback
	"::/96",           // IPv4-compatible (deprecated)
	"::ffff:0:0/96",   // IPv4-mapped; unmapped before this list is consulted
	"::ffff:0:0:0/96", // IPv4-translated
	"64:ff9b::/96",    // NAT64, well-known prefix
	"64:ff9b:1::/48",  // NAT64, local-use
	"100::/64",        // discard-only
	"2001::/32",       // Teredo
	"2001:2::/48",     // benchmarking
	"2001:db8::/32",   // documentation
	"2002::/16",       // 6to4
	"3fff::/20",       // documentation (RFC 9637)
	"fc00::/7",        // unique local
	"fe80::/10",       // link-local
	"fec0::/10",       // site-local (deprecated)
	"ff00::/8",        // multicast
)

func mustPrefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// Allowed reports whether addr is a public unicast address a webhook may
// reach. An IPv4-mapped IPv6 address is judged as the IPv4 address it maps.
// The zero Addr and addresses with an IPv6 zone (which only link-local
// scopes need) are denied.
func Allowed(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	addr = addr.Unmap()
	denied := deniedV4
	if addr.Is6() {
		if !globalV6.Contains(addr) {
			return false
		}
		denied = deniedV6
	}
	for _, p := range denied {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}
