package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
)

// clientIPMiddleware is the server's one client-address strategy. Every
// per-address limit (signaling connections, sign-in attempts, chunk
// fetches, chat bans) reads its result with middleware.GetClientIP.
//
// The TCP peer is the client unless it is one of Config.TrustedProxies:
// then the client is the nearest address in Config.TrustedProxyHeader
// (X-Forwarded-For, or Forwarded's for=) that is not itself a trusted
// proxy, walking from the right, since each proxy appends the address it
// saw. A client that reaches the server directly cannot choose its
// address with these headers: they are read only from a trusted peer.
// Only the one header the proxies write is read: a proxy passes the other
// on from the client untouched.
func (s *Server) clientIPMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientAddr(r, s.cfg.TrustedProxies, s.cfg.TrustedProxyHeader)
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

// clientAddr is the address of the client that sent r, given the trusted
// proxies and the header they write ("Forwarded", else X-Forwarded-For);
// invalid if r.RemoteAddr does not parse.
func clientAddr(r *http.Request, trusted []netip.Prefix, header string) netip.Addr {
	peer, ok := parseAddr(r.RemoteAddr, true)
	if !ok || !inPrefixes(peer, trusted) {
		return peer
	}
	var hops []string
	if strings.EqualFold(header, "Forwarded") {
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
		if !inPrefixes(ip, trusted) {
			break
		}
	}
	return client
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

func inPrefixes(ip netip.Addr, prefixes []netip.Prefix) bool {
	ip = ip.WithZone("")
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes (a
// bare address is a /32 or /128), for Config.TrustedProxies.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
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
