package signaling

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The regular expressions the hand-written checks in names.go replace.
var namePatterns = []struct {
	name string
	tok  token
	re   *regexp.Regexp
}{
	{"streamName", streamName, regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)},
	{"peerID", peerID, regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)},
	{"streamKey", streamKey, regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)},
}

func TestNamesMatchTheirRegexp(t *testing.T) {
	key := "x3YtlKIn2yVvzdOtFbI0MpkJ8XOdwjtHwCE_OobXm-w"
	inputs := []string{
		"", "a", "Z", "0", "_", "-", "demo", "live_2-b", "--", "__",
		strings.Repeat("a", 42), key, strings.Repeat("a", 44),
		strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 65),
		key[:42] + "=", key[:42] + "/", key[:42] + "+", key + "\n",
		"abc\n", "\nabc", "abc\r", "a b", " a", "a\x00", "\x00",
		"a.b", "a/b", "../etc", "a@b", "a:b", "a%20b", "<b>", "a'b", "a\"b", "a\\b",
		"[", "]", "^", "$", "`", "{", "~", "@", // the neighbours of the ranges in ASCII
		"é", "café", "ǅ", "Ａ", "٣", "K", // non-ASCII letters and digits, a fullwidth A, the Kelvin sign
		"\xff", "a\xffb", "\xc3", "\xe2\x82", // invalid UTF-8
		strings.Repeat("é", 32), strings.Repeat("é", 33), // 64 and 66 bytes, 32 and 33 characters
		strings.Repeat("a", 63) + "é", // 64 characters, 65 bytes
	}
	for _, p := range namePatterns {
		for _, in := range inputs {
			if got, want := p.tok.MatchString(in), p.re.MatchString(in); got != want {
				t.Errorf("%s.MatchString(%q) = %v, regexp says %v", p.name, in, got, want)
			}
		}
	}
}

// TestNamesMatchTheirRegexpRandom compares on random strings drawn mostly
// from the accepted alphabet, with the odd byte from outside it.
func TestNamesMatchTheirRegexpRandom(t *testing.T) {
	const alphabet = "abcXYZ019_-"
	odd := []string{"=", "/", "+", ".", " ", "\n", "\x00", "é", "\xff", "Ｚ", "K"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		n := rng.IntN(70)
		for j := 0; j < n; j++ {
			if rng.IntN(50) == 0 {
				b.WriteString(odd[rng.IntN(len(odd))])
			} else {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
		}
		in := b.String()
		for _, p := range namePatterns {
			if got, want := p.tok.MatchString(in), p.re.MatchString(in); got != want {
				t.Fatalf("%s.MatchString(%q) = %v, regexp says %v", p.name, in, got, want)
			}
		}
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"", "demo", "x3YtlKIn2yVvzdOtFbI0MpkJ8XOdwjtHwCE_OobXm-w", "a\n", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range namePatterns {
			if got, want := p.tok.MatchString(in), p.re.MatchString(in); got != want {
				t.Errorf("%s.MatchString(%q) = %v, regexp says %v", p.name, in, got, want)
			}
		}
	})
}
