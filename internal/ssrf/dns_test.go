package ssrf_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// fuzzZone is what the fuzz targets' DNS server knows; every other name
// does not exist.
var fuzzZone = map[string][]netip.Addr{
	"public.test.":   {netip.MustParseAddr("8.8.8.8")},
	"public6.test.":  {netip.MustParseAddr("2606:4700::1111")},
	"mixed.test.":    {netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("8.8.4.4")},
	"private.test.":  {netip.MustParseAddr("10.0.0.1")},
	"metadata.test.": {netip.MustParseAddr("169.254.169.254")},
	"mapped.test.":   {netip.MustParseAddr("::ffff:127.0.0.1")},
	"nat64.test.":    {netip.MustParseAddr("64:ff9b::808:808")},
}

// zoneResolver returns a Go resolver whose DNS server is in this process
// and answers from zone, so that no query leaves the machine. It still
// reads /etc/hosts first, as every Go resolver does. queries counts the
// questions the server is asked.
func zoneResolver(zone map[string][]netip.Addr, queries *atomic.Int64) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go serveDNS(server, zone, queries)
			return client, nil
		},
	}
}

// serveDNS answers the DNS queries on conn, framed as over TCP (a length
// before each message: net.Pipe is no PacketConn), until conn closes.
func serveDNS(conn net.Conn, zone map[string][]netip.Addr, queries *atomic.Int64) {
	defer conn.Close()
	for {
		var size [2]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return
		}
		query := make([]byte, binary.BigEndian.Uint16(size[:]))
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		queries.Add(1)
		answer := dnsAnswer(query, zone)
		if answer == nil {
			return
		}
		if _, err := conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(answer)))); err != nil {
			return
		}
		if _, err := conn.Write(answer); err != nil {
			return
		}
	}
}

// dnsAnswer answers a query for one A or AAAA record set from zone, with
// NXDOMAIN for a name it does not hold. It returns nil for a query it
// cannot read.
func dnsAnswer(query []byte, zone map[string][]netip.Addr) []byte {
	const headerLen = 12
	if len(query) < headerLen {
		return nil
	}
	var name strings.Builder
	end := headerLen
	for end < len(query) && query[end] != 0 {
		n := int(query[end])
		if n > 63 || end+1+n > len(query) {
			return nil
		}
		name.WriteString(strings.ToLower(string(query[end+1 : end+1+n])))
		name.WriteByte('.')
		end += 1 + n
	}
	if end+5 > len(query) {
		return nil
	}
	question := query[headerLen : end+5]
	qtype := binary.BigEndian.Uint16(query[end+1:])
	addrs, known := zone[name.String()]
	var records [][]byte
	for _, a := range addrs {
		switch {
		case qtype == 1 && a.Is4():
			records = append(records, a.AsSlice())
		case qtype == 28 && a.Is6():
			records = append(records, a.AsSlice())
		}
	}
	flags := uint16(0x8180) // a response, recursion desired and available
	if !known {
		flags |= 3 // NXDOMAIN
	}
	out := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(query))
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(records)))
	out = append(out, 0, 0, 0, 0) // no authority or additional records
	out = append(out, question...)
	for _, r := range records {
		out = append(out, 0xc0, headerLen) // the name, as a pointer to the question's
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, 1)  // class IN
		out = binary.BigEndian.AppendUint32(out, 60) // TTL
		out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
	}
	return out
}

// TestZoneResolver: the fuzz targets' resolver answers from its zone,
// and says that other names do not exist.
func TestZoneResolver(t *testing.T) {
	var queries atomic.Int64
	r := zoneResolver(fuzzZone, &queries)
	got, err := r.LookupNetIP(t.Context(), "ip", "Mixed.Test")
	slices.SortFunc(got, netip.Addr.Compare)
	if want := []netip.Addr{netip.MustParseAddr("8.8.4.4"), netip.MustParseAddr("10.0.0.1")}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("LookupNetIP(Mixed.Test) = %v, %v; want %v", got, err, want)
	}
	var dnsErr *net.DNSError
	if _, err := r.LookupNetIP(t.Context(), "ip", "absent.test"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("LookupNetIP(absent.test) = %v, want not found", err)
	}
	if queries.Load() == 0 {
		t.Fatal("the zone's server was never asked")
	}
}
