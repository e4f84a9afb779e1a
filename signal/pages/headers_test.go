package pages

import "testing"

func TestFrameAncestors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", DefaultFrameAncestors},
		{"   ", DefaultFrameAncestors},
		{"'self' https://example.com", "'self' https://example.com"},
		{"  https://a.example   https://b.example ", "https://a.example https://b.example"},
		{"https://a.example; script-src *", "'self'"},
		{"https://a.example,https://b.example", "'self'"},
		{"https://a.example\x7f", "'self'"},
	}
	for _, tc := range cases {
		if got := frameAncestors(tc.in); got != tc.want {
			t.Errorf("frameAncestors(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
