// Package ssrf makes the outbound HTTP requests of webhook deliveries, and
// makes sure they can reach only public addresses.
//
// # Threat
//
// A webhook URL is chosen by an API user, and the request to it is sent from
// inside our network. Unchecked, that is server-side request forgery: a URL
// naming http://169.254.169.254/ reads the cloud metadata service (and with
// it the function's credentials), one naming 127.0.0.1 or a private address
// reaches services that were never meant to be exposed, and the delivery's
// status code, timing or response tell the attacker what is there. Webhook
// requests must therefore never reach the metadata service, loopback,
// link-local, private or otherwise reserved networks, whatever the URL says
// and whatever its host name resolves to.
//
// # Approach
//
// Allowed is the one policy: it accepts only public unicast addresses, and
// denies the special-purpose IPv4 and IPv6 ranges (loopback, private,
// link-local, CGNAT, documentation, benchmarking, reserved, multicast, ULA,
// NAT64, 6to4, Teredo, site-local, IPv4-compatible). IPv4-mapped IPv6
// addresses are unmapped first, so ::ffff:127.0.0.1 is judged as 127.0.0.1.
//
// Guard.CheckURL applies it when a subscription is created or changed, so
// that a bad URL is refused at once with a message the client can act on
// (see URLError). That check alone is not enough: the name may resolve to
// another address later (DNS rebinding), and only one of its addresses has
// to be public for the check to pass.
//
// The enforcement point is therefore Guard.Client. Its dialer's Control
// function sees the concrete IP and port of every connection, after name
// resolution and just before connect, and refuses any address that Allowed
// denies or any port but 80 and 443, with an error wrapping ErrDenied. The
// client also never uses a proxy from the environment (which would make
// the dialled address the proxy's, not the target's) and never follows a
// redirect (a 3xx response is the delivery's answer), so the destination
// cannot be changed behind the check.
//
// Guard.AllowPrivate turns the restrictions off for local development, where
// webhook receivers run on localhost over plain HTTP. Deployed stacks never
// set it.
package ssrf
