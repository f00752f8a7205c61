package ssrf_test

import (
	"net/netip"
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
