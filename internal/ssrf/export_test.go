package ssrf

import "syscall"

// Control exposes the dialer's Control function of g's clients, so that
// tests can check the decision on public addresses without dialling them.
func Control(g *Guard) func(network, address string, c syscall.RawConn) error {
	return g.control
}
