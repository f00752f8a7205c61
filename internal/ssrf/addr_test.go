package ssrf_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/acme/helpdesk/internal/ssrf"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		name string
		addr string // "" is the zero netip.Addr
		want bool
	}{
		{"zero Addr", "", false},

		// IPv4 denied ranges.
		{"unspecified v4", "0.0.0.0", false},
		{"this network 0/8", "0.1.2.3", false},
		{"this network 0/8 top", "0.255.255.255", false},
		{"private 10/8", "10.0.0.1", false},
		{"private 10/8 top", "10.255.255.255", false},
		{"CGNAT bottom", "100.64.0.0", false},
		{"CGNAT top", "100.127.255.255", false},
		{"loopback", "127.0.0.1", false},
		{"loopback other", "127.1.2.3", false},
		{"link-local", "169.254.1.1", false},
		{"metadata service", "169.254.169.254", false},
		{"private 172.16/12 bottom", "172.16.0.0", false},
		{"private 172.16/12 top", "172.31.255.255", false},
		{"IETF protocol 192.0.0/24", "192.0.0.8", false},
		{"TEST-NET-1", "192.0.2.1", false},
		{"private 192.168/16", "192.168.1.1", false},
		{"benchmarking bottom", "198.18.0.0", false},
		{"benchmarking top", "198.19.255.255", false},
		{"TEST-NET-2", "198.51.100.7", false},
		{"TEST-NET-3", "203.0.113.9", false},
		{"multicast bottom", "224.0.0.1", false},
		{"multicast top", "239.255.255.255", false},
		{"reserved 240/4", "240.0.0.1", false},
		{"broadcast", "255.255.255.255", false},

		// IPv4 edges that are public.
		{"below 172.16/12", "172.15.255.255", true},
		{"above 172.16/12", "172.32.0.0", true},
		{"below CGNAT", "100.63.255.255", true},
		{"above CGNAT", "100.128.0.0", true},
		{"below 10/8", "9.255.255.255", true},
		{"above 10/8", "11.0.0.0", true},
		{"above 0/8", "1.0.0.0", true},
		{"below loopback", "126.255.255.255", true},
		{"above benchmarking", "198.20.0.0", true},
		{"below multicast", "223.255.255.255", true},
		{"192.0.1.x", "192.0.1.1", true},

		// IPv6 denied ranges.
		{"unspecified v6", "::", false},
		{"loopback v6", "::1", false},
		{"IPv4-compatible", "::8.8.8.8", false},
		{"IPv4-translated", "::ffff:0:808:808", false},
		{"NAT64 well-known", "64:ff9b::8.8.8.8", false},
		{"NAT64 local-use", "64:ff9b:1::1", false},
		{"discard-only", "100::1", false},
		{"Teredo", "2001::1", false},
		{"Teredo top", "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false},
		{"benchmarking v6", "2001:2::1", false},
		{"documentation v6", "2001:db8::1", false},
		{"6to4", "2002:c000:204::1", false},
		{"documentation 3fff::/20", "3fff::1", false},
		{"ULA fc00", "fc00::1", false},
		{"ULA fd00", "fd00:ec2::254", false},
		{"link-local v6", "fe80::1", false},
		{"link-local v6 top", "febf:ffff::1", false},
		{"site-local", "fec0::1", false},
		{"multicast v6", "ff02::1", false},
		{"outside 2000::/3", "4000::1", false},
		{"zoned link-local", "fe80::1%eth0", false},
		{"zoned public", "2606:4700::1111%eth0", false},

		// IPv4-mapped IPv6 is judged as IPv4.
		{"mapped loopback", "::ffff:127.0.0.1", false},
		{"mapped private", "::ffff:10.0.0.1", false},
		{"mapped metadata", "::ffff:169.254.169.254", false},
		{"mapped unspecified", "::ffff:0.0.0.0", false},
		{"mapped public", "::ffff:8.8.8.8", true},

		// Public addresses.
		{"Google DNS", "8.8.8.8", true},
		{"Cloudflare DNS", "1.1.1.1", true},
		{"public v4", "93.184.216.34", true},
		{"Cloudflare v6", "2606:4700::1111", true},
		{"Google v6", "2001:4860:4860::8888", true},
		{"next to Teredo", "2001:1::1", true},
		{"above 2001:db8::/32", "2001:db9::1", true},
		{"top of 2000::/3", "3ffe::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr netip.Addr
			if tt.addr != "" {
				addr = netip.MustParseAddr(tt.addr)
			}
			if got := ssrf.Allowed(addr); got != tt.want {
				t.Errorf("Allowed(%s) = %v, want %v", addr, got, tt.want)
			}
		})
	}
}

// v4Denied states the IPv4 deny-list of the package doc as ranges of
// 32-bit numbers, first and last.
var v4Denied = [][2]uint32{
	{0x00000000, 0x00ffffff}, // 0.0.0.0/8, this network
	{0x0a000000, 0x0affffff}, // 10.0.0.0/8, private
	{0x64400000, 0x647fffff}, // 100.64.0.0/10, shared (CGNAT)
	{0x7f000000, 0x7fffffff}, // 127.0.0.0/8, loopback
	{0xa9fe0000, 0xa9feffff}, // 169.254.0.0/16, link-local
	{0xac100000, 0xac1fffff}, // 172.16.0.0/12, private
	{0xc0000000, 0xc00000ff}, // 192.0.0.0/24, IETF protocol assignments
	{0xc0000200, 0xc00002ff}, // 192.0.2.0/24, documentation
	{0xc0a80000, 0xc0a8ffff}, // 192.168.0.0/16, private
	{0xc6120000, 0xc613ffff}, // 198.18.0.0/15, benchmarking
	{0xc6336400, 0xc63364ff}, // 198.51.100.0/24, documentation
	{0xcb007100, 0xcb0071ff}, // 203.0.113.0/24, documentation
	{0xe0000000, 0xffffffff}, // 224.0.0.0/4 multicast, 240.0.0.0/4 reserved, broadcast
}

// allowedReference states Allowed independently: an IPv4 address (also
// when IPv4-mapped) outside v4Denied, or an IPv6 address in 2000::/3 but
// not Teredo (2001::/32), benchmarking (2001:2::/48), documentation
// (2001:db8::/32, 3fff::/20) or 6to4 (2002::/16); no zone. Every other
// IPv6 range of the package doc lies outside 2000::/3.
func allowedReference(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	b := a.As16()
	if a.Is4() || a.Is4In6() {
		v := binary.BigEndian.Uint32(b[12:])
		return !slices.ContainsFunc(v4Denied, func(r [2]uint32) bool { return r[0] <= v && v <= r[1] })
	}
	w0, w1, w2 := binary.BigEndian.Uint16(b[0:]), binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint16(b[4:])
	switch {
	case w0 < 0x2000 || w0 > 0x3fff:
		return false
	case w0 == 0x2001 && (w1 == 0 || w1 == 0x0db8 || w1 == 2 && w2 == 0):
		return false
	case w0 == 0x2002, w0 == 0x3fff && w1 < 0x1000:
		return false
	}
	return true
}

// FuzzAllowed checks Allowed against allowedReference on addresses built
// from 4 or 16 bytes (the IPv4-mapped form of each IPv4 address is checked
// too, and must answer alike), and the dialer's Control function against
// Allowed and the port rule, strict and relaxed.
func FuzzAllowed(f *testing.F) {
	for _, s := range []string{"8.8.8.8", "10.1.2.3", "169.254.169.254", "100.64.0.1", "198.19.255.255", "255.255.255.255",
		"2606:4700::1111", "2001::1", "2001:2::1", "2001:2:1::1", "2001:db8::1", "2002::1", "3fff:fff::1", "3fff:1000::1",
		"fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "64:ff9b::808:808", "::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice(), "", uint16(443), byte(0))
	}
	f.Add([]byte{0xfe, 0x80, 15: 1}, "eth0", uint16(80), byte(2))
	f.Add([]byte{1, 2, 3}, "", uint16(8443), byte(3))
	strict, relaxed := ssrf.Control(&ssrf.Guard{}), ssrf.Control(&ssrf.Guard{AllowPrivate: true})
	networks := []string{"tcp", "tcp4", "tcp6", "udp", "udp6", "ip"}
	f.Fuzz(func(t *testing.T, raw []byte, zone string, port uint16, network byte) {
		a, ok := netip.AddrFromSlice(raw)
		if !ok {
			if ssrf.Allowed(netip.Addr{}) {
				t.Fatal("the zero Addr is Allowed")
			}
			return
		}
		if a.Is6() && zone != "" && strings.Trim(zone, "abcdefghijklmnopqrstuvwxyz0123456789") == "" {
			a = a.WithZone(zone)
		}
		got := ssrf.Allowed(a)
		if want := allowedReference(a); got != want {
			t.Fatalf("Allowed(%v) = %v, the deny-list says %v", a, got, want)
		}
		if a.Is4() {
			if mapped := netip.AddrFrom16(a.As16()); ssrf.Allowed(mapped) != got {
				t.Fatalf("Allowed(%v) = %v but Allowed(%v) = %v", a, got, mapped, !got)
			}
		}
		nw := networks[int(network)%len(networks)]
		address := netip.AddrPortFrom(a, port).String()
		tcp := strings.HasPrefix(nw, "tcp")
		if err := strict(nw, address, nil); (err == nil) != (tcp && got && (port == 80 || port == 443)) || err != nil && !errors.Is(err, ssrf.ErrDenied) {
			t.Fatalf("control(%s, %s) = %v with Allowed %v", nw, address, err, got)
		}
		u := a.Unmap().As16()
		linkLocal := a.Unmap().Is4() && u[12] == 169 && u[13] == 254 || a.Is6() && !a.Is4In6() && u[0] == 0xfe && u[1]&0xc0 == 0x80
		metadata := a.WithZone("") == netip.MustParseAddr("fd00:ec2::254")
		if err := relaxed(nw, address, nil); (err == nil) != (tcp && !linkLocal && !metadata) {
			t.Fatalf("relaxed control(%s, %s) = %v", nw, address, err)
		}
	})
}
