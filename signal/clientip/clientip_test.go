package clientip_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/shoal-live/shoal/signal/clientip"
)

func TestClient(t *testing.T) {
	proxies, err := clientip.ParsePrefixes("10.0.0.0/8, 192.0.2.1, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		remote  string
		trusted []netip.Prefix
		xff     []string
		fwd     []string
		header  string // TrustedProxyHeader
		want    string
	}{
		{name: "no proxies trusted: headers ignored", remote: "198.51.100.7:4000", xff: []string{"203.0.113.9"}, want: "198.51.100.7"},
		{name: "untrusted peer spoofing", remote: "198.51.100.7:4000", trusted: proxies, xff: []string{"203.0.113.9"}, fwd: []string{"for=203.0.113.9"}, want: "198.51.100.7"},
		{name: "trusted peer, XFF", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"203.0.113.9"}, want: "203.0.113.9"},
		{name: "client's own XFF left of the real one", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"1.2.3.4, 203.0.113.9"}, want: "203.0.113.9"},
		{name: "two trusted hops", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"1.2.3.4, 203.0.113.9, 192.0.2.1"}, want: "203.0.113.9"},
		{name: "XFF over several headers", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"1.2.3.4", "203.0.113.9"}, want: "203.0.113.9"},
		{name: "garbage to the right", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"203.0.113.9, nonsense"}, want: "10.1.2.3"},
		{name: "trusted peer, no header", remote: "10.1.2.3:4000", trusted: proxies, want: "10.1.2.3"},
		{name: "XFF proxy: a client's Forwarded is ignored", remote: "10.1.2.3:4000", trusted: proxies, xff: []string{"203.0.113.9"}, fwd: []string{"for=1.1.1.1"}, want: "203.0.113.9"},
		{name: "Forwarded proxy", remote: "10.1.2.3:4000", trusted: proxies, header: "Forwarded", xff: []string{"1.1.1.1"}, fwd: []string{`for=203.0.113.9;proto=https`}, want: "203.0.113.9"},
		{name: "Forwarded IPv6 with port", remote: "[2001:db8::1]:443", trusted: proxies, header: "Forwarded", fwd: []string{`for="[2001:db8:cafe::17]:4711"`, `for="[2600::1]:80"`}, want: "2600::1"},
		{name: "Forwarded list in one value", remote: "10.1.2.3:4000", trusted: proxies, header: "forwarded", fwd: []string{`for=1.1.1.1, for=203.0.113.9;by=10.1.2.3`}, want: "203.0.113.9"},
		{name: "Forwarded obfuscated", remote: "10.1.2.3:4000", trusted: proxies, header: "Forwarded", fwd: []string{"for=_hidden"}, want: "10.1.2.3"},
		{name: "mapped IPv4 peer", remote: "[::ffff:10.1.2.3]:4000", trusted: proxies, xff: []string{"::ffff:203.0.113.9"}, want: "203.0.113.9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				r.Header.Add("Forwarded", v)
			}
			s := clientip.Strategy{TrustedProxies: tc.trusted, Header: tc.header}
			if got := s.Client(r).String(); got != tc.want {
				t.Errorf("Client = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "nope", "10.0.0.1/8/2"} {
		if _, err := clientip.ParsePrefixes(bad); err == nil {
			t.Errorf("clientip.ParsePrefixes(%q) accepted", bad)
		}
	}
	got, err := clientip.ParsePrefixes(" 10.1.2.3/8 ,::1,")
	if err != nil || len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "::1/128" {
		t.Errorf("got %v, %v", got, err)
	}
}
