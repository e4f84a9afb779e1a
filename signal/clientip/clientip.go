// Package clientip is the server's one client-address strategy: which
// address sent a request, given the reverse proxies the server trusts.
// Every per-address limit (signaling connections, sign-in attempts, chunk
// fetches, chat bans) reads what it finds with chi's
// middleware.GetClientIP.
//
// The TCP peer is the client unless it is one of Strategy.TrustedProxies:
// then the client is the nearest address in Strategy.Header
// (X-Forwarded-For, or Forwarded's for=) that is not itself a trusted
// proxy, walking from the right, since each proxy appends the address it
// saw. A client that reaches the server directly cannot choose its address
// with these headers: they are read only from a trusted peer. Only the one
// header the proxies write is read: a proxy passes the other on from the
// client untouched.
//
//	proxies, err := clientip.ParsePrefixes("10.0.0.0/8, 192.0.2.1")
//	s := clientip.Strategy{TrustedProxies: proxies, Header: "X-Forwarded-For"}
//	r.Use(s.Middleware)
//	...
//	ip := middleware.GetClientIP(r.Context()) // in a handler
package clientip

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
)

// Strategy says who the client of a request is.
type Strategy struct {
	// TrustedProxies are the reverse proxies whose Header names the
	// client: only a request whose TCP peer is in one of these prefixes is
	// believed. None: the TCP peer is the client.
	TrustedProxies []netip.Prefix
	// Header is the header those proxies write: "Forwarded" (RFC 7239)
	// or, for anything else, "X-Forwarded-For".
	Header string
}

// Middleware puts the client's address where middleware.GetClientIP finds
// it.
func (s Strategy) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := s.Client(r)
		if !ip.IsValid() {
			middleware.ClientIPFromRemoteAddr(next).ServeHTTP(w, r)
			return
		}
		// chi keeps the address under a private key that only its
		// ClientIPFrom* middlewares set: hand it the address found.
		rr := r.WithContext(r.Context())
		rr.RemoteAddr = ip.String()
		middleware.ClientIPFromRemoteAddr(http.HandlerFunc(func(_ http.ResponseWriter, withIP *http.Request) {
			next.ServeHTTP(w, r.WithContext(withIP.Context()))
		})).ServeHTTP(w, rr)
	})
}

// Client is the address of the client that sent r; invalid if
// r.RemoteAddr does not parse.
func (s Strategy) Client(r *http.Request) netip.Addr {
	peer, ok := parseAddr(r.RemoteAddr, true)
	if !ok || !s.Proxy(peer) {
		return peer
	}
	var hops []string
	if strings.EqualFold(s.Header, "Forwarded") {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	} else {
		for _, h := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(h, ",")...)
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip, ok := parseAddr(hops[i], false)
		if !ok {
			break // garbage (or "unknown", an obfuscated name): keep the last hop we could read
		}
		client = ip
		if !s.Proxy(ip) {
			break
		}
	}
	return client
}

// Proxy reports whether ip is one of the trusted proxies.
func (s Strategy) Proxy(ip netip.Addr) bool {
	ip = ip.WithZone("")
	for _, p := range s.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor returns the for= addresses of Forwarded header values, in
// order.
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			found := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					found = strings.Trim(val, `"`)
				}
			}
			out = append(out, found) // "" (no for=) stops the walk there
		}
	}
	return out
}

// parseAddr reads an address, with or without a port (IPv6 in brackets
// when with a port, as in Forwarded), folding IPv4-mapped IPv6 to IPv4.
// A header's IPv6 zone is dropped; a socket's is kept.
func parseAddr(s string, socket bool) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	ip = ip.Unmap()
	if !socket {
		ip = ip.WithZone("")
	}
	return ip, true
}

// Peer is the address of a connection's TCP peer (net.Conn.RemoteAddr),
// IPv4-mapped IPv6 folded to IPv4, without a zone; false if it is not an
// IP address.
func Peer(a net.Addr) (netip.Addr, bool) { return parseAddr(a.String(), false) }

// ParsePrefixes parses a comma-separated list of CIDR prefixes (a bare
// address is a /32 or /128), for Strategy.TrustedProxies.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
