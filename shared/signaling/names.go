package signaling

// Stream names, peer ids and stream keys are checked by hand, not with
// regexp: the browser peer validates every message too, and regexp (with
// regexp/syntax and unicode tables) would be about 260 KB of its wasm.
// names_test.go checks each against the regular expression it replaces.
var (
	streamName = token{min: 1, max: MaxStream} // ^[A-Za-z0-9_-]{1,64}$
	peerID     = token{min: 1, max: 64}        // ^[A-Za-z0-9_-]{1,64}$
	streamKey  = token{min: 43, max: 43}       // ^[A-Za-z0-9_-]{43}$: 32 bytes of unpadded base64url
)

// MaxStream is the longest stream name, in bytes (ValidStream).
const MaxStream = 64

// token matches strings of min to max bytes, each an ASCII letter or
// digit, '_' or '-' (the base64url alphabet).
type token struct{ min, max int }

// MatchString reports whether s is such a string.
func (t token) MatchString(s string) bool {
	if len(s) < t.min || len(s) > t.max {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
