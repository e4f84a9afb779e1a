package static

import "testing"

func TestNegotiate(t *testing.T) {
	all := []string{Zstd, Brotli, Gzip} // as a File lists them: zstd, then the smallest body
	tests := []struct {
		name, accept string
		offered      []string
		want         string
	}{
		{"no header", "", all, Identity},
		{"blank header", "  ", all, Identity},
		{"chromium", "gzip, deflate, br, zstd", all, Zstd},
		{"smallest first when offered so", "gzip, deflate, br, zstd", []string{Brotli, Zstd, Gzip}, Brotli},
		{"firefox", "gzip, deflate, br, zstd", all, Zstd}, // the first offered wins a tie
		{"safari, older", "gzip, deflate, br", []string{Zstd, Brotli, Gzip}, Brotli},
		{"gzip only", "gzip", all, Gzip},
		{"x-gzip", "x-gzip", all, Gzip},
		{"case", "GZip, BR", all, Brotli},
		{"br refused", "gzip, br;q=0, zstd", all, Zstd},
		{"br refused, spaced", "br ; q=0 , gzip", all, Gzip},
		{"br refused, q=0.000", "br;q=0.000, gzip", all, Gzip},
		{"q prefers gzip", "br;q=0.5, gzip;q=0.9, zstd;q=0.1", all, Gzip},
		{"q=1.0", "gzip;q=1.0, br;q=0.999", all, Gzip},
		{"Q upper case", "br;Q=0.2, gzip;q=0.3", all, Gzip},
		{"other params", "br;level=1;q=0.4, gzip;q=0.3", all, Brotli},
		{"duplicate takes the higher q", "gzip;q=0.1, br;q=0.5, gzip;q=0.9", all, Gzip},
		{"star", "*", all, Zstd},
		{"star with zstd refused", "*, zstd;q=0", all, Brotli},
		{"star refused, gzip named", "*;q=0, gzip", all, Gzip},
		{"star refused, nothing named: identity anyway", "*;q=0", all, Identity},
		{"identity preferred by q", "identity;q=1, gzip;q=0.5", all, Identity},
		{"identity refused, no coding offered: identity anyway", "identity;q=0", nil, Identity},
		{"coding beats identity on a tie", "identity, gzip", all, Gzip},
		{"unknown codings only", "deflate, compress, bzip2", all, Identity},
		{"only what is offered", "br, zstd", []string{Gzip}, Identity},
		{"nothing offered", "br, gzip", nil, Identity},
		{"malformed q: that entry refused", "br;q=high, gzip", all, Gzip},
		{"q above 1", "br;q=2, gzip", all, Gzip},
		{"negative q", "br;q=-1, gzip", all, Gzip},
		{"q with too many decimals", "br;q=0.0001, gzip", all, Gzip},
		{"q=NaN", "br;q=NaN, gzip;q=0.5", all, Gzip},
		{"empty entries", ",, ,gzip,,", all, Gzip},
		{"empty q", "br;q=, gzip", all, Gzip},
		{"garbage", "\x00;;;==,", all, Identity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.accept, tt.offered); got != tt.want {
				t.Errorf("Negotiate(%q, %v) = %q, want %q", tt.accept, tt.offered, got, tt.want)
			}
		})
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br, zstd", "br;q=0, *", "identity;q=0", "x-gzip;q=0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		all := []string{Brotli, Zstd, Gzip}
		got := Negotiate(accept, all)
		if got != Identity && got != Brotli && got != Zstd && got != Gzip {
			t.Fatalf("Negotiate(%q) = %q: not offered", accept, got)
		}
		if Negotiate(accept, nil) != Identity {
			t.Fatalf("Negotiate(%q, nil) is not identity", accept)
		}
	})
}
