package static

import (
	"strconv"
	"strings"
)

// Identity is the content coding of a body sent as it is.
const Identity = "identity"

// Negotiate picks the content coding of the response to a request whose
// Accept-Encoding header is accept, from offered (the codings the body
// exists in, the one to prefer first; identity is always available). Following RFC
// 9110 §12.5.3:
//
//   - a coding is acceptable if accept lists it, or "*", with q > 0;
//     "x-gzip" is gzip; names are case-insensitive;
//   - identity is acceptable unless accept gives it, or "*" when it is
//     not listed, q=0; unlisted, it comes after every listed coding;
//   - the acceptable coding with the highest q wins, the earlier in
//     offered on a tie (File.Codings: zstd, then the smallest body), and a coding beats identity
//     on a tie;
//   - no header, an empty one, or one that accepts nothing offered, means
//     identity: a body no client asked for is never sent.
//
// A malformed q-value makes its entry unacceptable.
func Negotiate(accept string, offered []string) string {
	if strings.TrimSpace(accept) == "" {
		return Identity
	}
	listed := map[string]float64{}
	star, starListed := 0.0, false
	for _, part := range strings.Split(accept, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if name == "x-gzip" {
			name = Gzip
		}
		q := qvalue(params)
		if name == "*" {
			star, starListed = max(star, q), true
			continue
		}
		if old, ok := listed[name]; !ok || q > old {
			listed[name] = q
		}
	}
	weight := func(c string) float64 {
		if q, ok := listed[c]; ok {
			return q
		}
		if starListed {
			return star
		}
		if c == Identity {
			return identityLast // acceptable unless excluded, and last
		}
		return 0
	}
	best, bestQ := Identity, weight(Identity)
	for _, c := range offered {
		if q := weight(c); q > 0 && q >= bestQ && (best == Identity || q > bestQ) {
			best, bestQ = c, q
		}
	}
	return best
}

// identityLast is the weight of identity when accept does not mention it:
// below the smallest q a header can give (0.001).
const identityLast = 0.0001

// qvalue returns the q parameter among params (";q=0.5;level=1"), 1 when
// there is none, and 0 when it is malformed: RFC 9110 allows 0 to 1 with
// at most three decimals.
func qvalue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) == 0 || len(v) > 5 || (v[0] != '0' && v[0] != '1') {
			return 0
		}
		q, err := strconv.ParseFloat(v, 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}
