package wire_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-live/shoal/shared/wire"
)

// cases drives the encode, decode and round-trip tests and seeds FuzzDecode.
// Hex is the expected frame (spaces ignored); it is empty for the large
// messages, which are checked by round trip only.
var cases = []struct {
	name string
	msg  wire.Message
	hex  string
}{
	{"have", wire.Have{Seq: 0x0102030405060708}, "01 01 0102030405060708"},
	{"have zero", wire.Have{}, "01 01 0000000000000000"},
	{"buffermap empty", wire.BufferMap{Base: 5}, "01 02 0000000000000005 0000"},
	{"buffermap 3 bits", wire.BufferMap{Base: 100, Bits: []bool{true, false, true}}, "01 02 0000000000000064 0003 05"},
	{"buffermap 8 bits", wire.BufferMap{Base: 1, Bits: []bool{false, true, false, false, false, false, false, true}}, "01 02 0000000000000001 0008 82"},
	{"buffermap 9 bits", wire.BufferMap{Bits: []bool{true, false, false, false, false, false, false, true, true}}, "01 02 0000000000000000 0009 8101"},
	{"buffermap max at top of range", wire.BufferMap{Base: math.MaxUint64 - (wire.MaxBufferMap - 1), Bits: alternating(wire.MaxBufferMap)}, ""},
	{"request max seq", wire.Request{Seq: math.MaxUint64}, "01 03 ffffffffffffffff"},
	{"chunk empty", wire.Chunk{Seq: 1, Timestamp: -1}, "01 04 0000000000000001 ffffffffffffffff 00 00000000"},
	{"chunk keyframe", wire.Chunk{Seq: 9, Timestamp: 1700000000000, Flags: wire.FlagKeyframe, Payload: []byte("abc")}, "01 04 0000000000000009 0000018bcfe56800 01 00000003 616263"},
	{"chunk unknown flags", wire.Chunk{Seq: 2, Flags: 0x7e, Payload: []byte{0}}, "01 04 0000000000000002 0000000000000000 7e 00000001 00"},
	{"chunk signed", wire.Chunk{Seq: 2, Flags: wire.FlagKeyframe, Payload: []byte{0xab}, Signature: bytes.Repeat([]byte{0x5a}, 64)},
		"01 04 0000000000000002 0000000000000000 81 00000001 ab" + strings.Repeat("5a", 64)},
	{"chunk signed empty", wire.Chunk{Seq: 3, Signature: bytes.Repeat([]byte{0x01}, 64)}, "01 04 0000000000000003 0000000000000000 80 00000000" + strings.Repeat("01", 64)},
	{"chunk signed max payload", wire.Chunk{Seq: 3, Timestamp: 1, Payload: bytes.Repeat([]byte{0xa5}, wire.MaxPayload), Signature: make([]byte, 64)}, ""},
	{"chunk max payload", wire.Chunk{Seq: 3, Timestamp: 1, Payload: bytes.Repeat([]byte{0xa5}, wire.MaxPayload)}, ""},
	{"notfound", wire.NotFound{Seq: 42}, "01 05 000000000000002a"},
	{"announce one", wire.Announce{Base: 3, Digests: [][32]byte{fill32(0xaa)}, Signature: fill64(0x55)},
		"01 06 0000000000000003 01" + strings.Repeat("aa", 32) + strings.Repeat("55", 64)},
	{"announce max", wire.Announce{Base: 1 << 40, Digests: digests(wire.MaxAnnounce), Signature: fill64(0x77)}, ""},
	{"status no stripes", wire.Status{Newest: 7, Recent: 5, Slots: 3, Free: 1}, "01 07 0000000000000007 0000000000000005 03 01 00"},
	{"status four stripes", wire.Status{Newest: 1 << 33, Recent: 1<<63 | 1, Slots: 24, Free: 0, Depth: []uint8{0, 1, 2, wire.NoDepth}},
		"01 07 0000000200000000 8000000000000001 18 00 04 000102ff"},
	{"status max stripes", wire.Status{Depth: make([]uint8, wire.MaxStripes)}, ""},
	{"subscribe", wire.Subscribe{Stripe: 3, Slots: 19}, "01 08 03 13"},
	{"unsubscribe", wire.Unsubscribe{Stripe: 255}, "01 09 ff"},
	{"accept", wire.Accept{Stripe: 1, Depth: 7}, "01 0a 01 07"},
}

func alternating(n int) []bool {
	bits := make([]bool, n)
	for i := range bits {
		bits[i] = i%3 != 1
	}
	return bits
}

func fill32(v byte) (a [32]byte) {
	for i := range a {
		a[i] = v
	}
	return a
}

func fill64(v byte) (a [64]byte) {
	for i := range a {
		a[i] = v
	}
	return a
}

func digests(n int) [][32]byte {
	d := make([][32]byte, n)
	for i := range d {
		d[i] = sha256.Sum256([]byte{byte(i)})
	}
	return d
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestEncode(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := wire.Encode(tc.msg)
			if tc.hex != "" {
				if want := mustHex(t, tc.hex); !bytes.Equal(got, want) {
					t.Fatalf("Encode = %x, want %x", got, want)
				}
			}
			if got[0] != wire.Version || wire.Type(got[1]) != tc.msg.Type() {
				t.Errorf("header = %x, want %02x %02x", got[:2], wire.Version, byte(tc.msg.Type()))
			}
			if n := wire.EncodedLen(tc.msg); n != len(got) {
				t.Errorf("EncodedLen = %d, want %d", n, len(got))
			}
			if err := wire.Validate(tc.msg); err != nil {
				t.Errorf("Validate: %v", err)
			}
			prefix := []byte("prefix")
			if app := tc.msg.AppendEncode(prefix); !bytes.Equal(app, append([]byte("prefix"), got...)) {
				t.Errorf("AppendEncode does not append to its argument")
			}
		})
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := wire.Encode(tc.msg)
			if tc.hex != "" {
				in = mustHex(t, tc.hex)
			}
			got, err := wire.Decode(in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("Decode = %#v, want %#v", got, tc.msg)
			}
			if re := wire.Encode(got); !bytes.Equal(re, in) {
				t.Fatalf("re-encode = %x, want %x", re, in)
			}
		})
	}
}

func TestDecodeCopiesPayload(t *testing.T) {
	in := wire.Encode(wire.Chunk{Seq: 1, Payload: []byte("hello")})
	m, err := wire.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	clear(in)
	if got := m.(wire.Chunk).Payload; string(got) != "hello" {
		t.Fatalf("Payload aliases the input: %q after clearing the input", got)
	}
}

// badCases are inputs Decode must reject, with the sentinel it must wrap.
var badCases = []struct {
	name string
	hex  string
	in   []byte // used when hex is empty
	want error
}{
	{"empty", "", []byte{}, wire.ErrShort},
	{"nil", "", nil, wire.ErrShort},
	{"one byte", "01", nil, wire.ErrShort},
	{"version 0", "00 01 0000000000000001", nil, wire.ErrVersion},
	{"version 2", "02 01 0000000000000001", nil, wire.ErrVersion},
	{"version 2 short body", "02 01", nil, wire.ErrVersion},
	{"type 0", "01 00 0000000000000001", nil, wire.ErrUnknownType},
	{"type 0b", "01 0b", nil, wire.ErrUnknownType},
	{"accept trailing", "01 0a 01 07 00", nil, wire.ErrTrailing},
	{"status short", "01 07 0000000000000007 0000000000000005 03 01", nil, wire.ErrShort},
	{"status 17 stripes", "01 07 0000000000000007 0000000000000005 03 01 11" + strings.Repeat("00", 17), nil, wire.ErrTooLarge},
	{"status missing depth", "01 07 0000000000000007 0000000000000005 03 01 02 00", nil, wire.ErrShort},
	{"status trailing depth", "01 07 0000000000000007 0000000000000005 03 01 01 0000", nil, wire.ErrTrailing},
	{"subscribe short", "01 08 03", nil, wire.ErrShort},
	{"unsubscribe trailing", "01 09 01 02", nil, wire.ErrTrailing},
	{"type ff", "01 ff 00", nil, wire.ErrUnknownType},
	{"have trailing byte", "01 01 0000000000000001 00", nil, wire.ErrTrailing},
	{"request short", "01 03 00000000000000", nil, wire.ErrShort},
	{"buffermap count 1025", "01 02 0000000000000000 0401" + strings.Repeat("00", 129), nil, wire.ErrTooLarge},
	{"buffermap count 1025 no bitmap", "01 02 0000000000000000 0401", nil, wire.ErrTooLarge},
	{"buffermap count ffff", "01 02 0000000000000000 ffff", nil, wire.ErrTooLarge},
	{"buffermap padding bit", "01 02 0000000000000000 0003 08", nil, wire.ErrMalformed},
	{"buffermap high padding bit", "01 02 0000000000000000 0009 ff80", nil, wire.ErrMalformed},
	{"buffermap range overflow", "01 02 ffffffffffffffff 0002 03", nil, wire.ErrMalformed},
	{"buffermap missing bitmap byte", "01 02 0000000000000000 0009 ff", nil, wire.ErrShort},
	{"buffermap extra bitmap byte", "01 02 0000000000000000 0008 ff00", nil, wire.ErrTrailing},
	{"chunk payload length past end", "01 04 0000000000000001 0000000000000000 00 00000005 6162", nil, wire.ErrShort},
	{"chunk payload length over max", "01 04 0000000000000001 0000000000000000 00 0003ffc1", nil, wire.ErrTooLarge},
	{"chunk payload length ffffffff", "01 04 0000000000000001 0000000000000000 00 ffffffff 00", nil, wire.ErrTooLarge},
	{"chunk trailing byte", "01 04 0000000000000001 0000000000000000 00 00000001 61 62", nil, wire.ErrTrailing},
	{"chunk signed without signature", "01 04 0000000000000001 0000000000000000 80 00000001 61", nil, wire.ErrShort},
	{"chunk signed short signature", "01 04 0000000000000001 0000000000000000 81 00000001 61" + strings.Repeat("00", 63), nil, wire.ErrShort},
	{"chunk signed trailing byte", "01 04 0000000000000001 0000000000000000 81 00000001 61" + strings.Repeat("00", 65), nil, wire.ErrTrailing},
	{"announce count 0", "01 06 0000000000000000 00" + strings.Repeat("00", 64), nil, wire.ErrMalformed},
	{"announce count 65", "01 06 0000000000000000 41" + strings.Repeat("00", 65*32+64), nil, wire.ErrTooLarge},
	{"announce count ff", "01 06 0000000000000000 ff", nil, wire.ErrTooLarge},
	{"announce missing signature", "01 06 0000000000000000 01" + strings.Repeat("00", 32), nil, wire.ErrShort},
	{"announce range overflow", "01 06 ffffffffffffffff 02" + strings.Repeat("00", 2*32+64), nil, wire.ErrMalformed},
	{"oversized chunk", "", oversized(), wire.ErrTooLarge},
	{"oversized garbage", "", bytes.Repeat([]byte{0xff}, wire.MaxMessageSize+1), wire.ErrTooLarge},
}

// oversized returns a well-formed chunk frame one byte over MaxMessageSize.
func oversized() []byte {
	return wire.Encode(wire.Chunk{Payload: make([]byte, wire.MaxPayload+1), Signature: make([]byte, wire.SignatureSize)})
}

func TestDecodeBad(t *testing.T) {
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if tc.hex != "" {
				in = mustHex(t, tc.hex)
			}
			checkErr(t, in, tc.want)
		})
	}
}

func TestDecodeTruncated(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := wire.Encode(tc.msg)
			for n := range len(in) {
				checkErr(t, in[:n], wire.ErrShort)
			}
		})
	}
}

func TestDecodeTrailing(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := append(wire.Encode(tc.msg), 0)
			want := wire.ErrTrailing
			if len(in) > wire.MaxMessageSize {
				want = wire.ErrTooLarge
			}
			checkErr(t, in, want)
		})
	}
}

func checkErr(t *testing.T, in []byte, want error) {
	t.Helper()
	m, err := wire.Decode(in)
	if !errors.Is(err, want) {
		t.Fatalf("Decode(%x) = %#v, %v; want error wrapping %q", in[:min(len(in), 48)], m, err, want)
	}
	if m != nil {
		t.Fatalf("Decode(%x) returned message %#v with error", in[:min(len(in), 48)], m)
	}
	if !strings.HasPrefix(err.Error(), "wire: decode") {
		t.Fatalf("error %q lacks the operation prefix", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		msg  wire.Message
		want error
	}{
		{"buffermap 1025 bits", wire.BufferMap{Bits: make([]bool, wire.MaxBufferMap+1)}, wire.ErrTooLarge},
		{"buffermap 65539 bits", wire.BufferMap{Bits: make([]bool, 1<<16+3)}, wire.ErrTooLarge},
		{"buffermap range overflow", wire.BufferMap{Base: math.MaxUint64, Bits: make([]bool, 2)}, wire.ErrMalformed},
		{"chunk payload too large", wire.Chunk{Payload: make([]byte, wire.MaxPayload+1)}, wire.ErrTooLarge},
		{"chunk sets FlagSigned itself", wire.Chunk{Flags: wire.FlagSigned}, wire.ErrMalformed},
		{"chunk short signature", wire.Chunk{Signature: make([]byte, 63)}, wire.ErrMalformed},
		{"announce no digests", wire.Announce{}, wire.ErrMalformed},
		{"announce 65 digests", wire.Announce{Digests: digests(wire.MaxAnnounce + 1)}, wire.ErrTooLarge},
		{"announce 256 digests", wire.Announce{Digests: digests(256)}, wire.ErrTooLarge},
		{"announce range overflow", wire.Announce{Base: math.MaxUint64, Digests: digests(2)}, wire.ErrMalformed},
		{"pointer", &wire.Have{}, wire.ErrUnknownType},
		{"nil", nil, wire.ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := wire.Validate(tc.msg); !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want error wrapping %q", err, tc.want)
			}
			if tc.want == wire.ErrUnknownType {
				return // not a value type; its encoding may be fine
			}
			// An invalid message still encodes without panicking, to a
			// frame that Decode rejects.
			if m, err := wire.Decode(wire.Encode(tc.msg)); err == nil {
				t.Fatalf("Decode(Encode(invalid)) = %#v, nil; want an error", m)
			}
		})
	}
}

func TestBufferMapHas(t *testing.T) {
	m := wire.BufferMap{Base: 100, Bits: []bool{true, false, true}}
	for seq, want := range map[uint64]bool{0: false, 99: false, 100: true, 101: false, 102: true, 103: false, math.MaxUint64: false} {
		if got := m.Has(seq); got != want {
			t.Errorf("Has(%d) = %v, want %v", seq, got, want)
		}
	}
	top := wire.BufferMap{Base: math.MaxUint64 - 1, Bits: []bool{false, true}}
	if !top.Has(math.MaxUint64) || top.Has(0) || top.Has(math.MaxUint64-1) {
		t.Errorf("Has at the top of the range is wrong")
	}
	if (wire.BufferMap{}).Has(0) {
		t.Errorf("empty map Has(0) = true")
	}
}

func TestAnnounceSignedBytes(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	m := wire.Announce{Base: 7, Digests: digests(3)}
	copy(m.Signature[:], ed25519.Sign(priv, m.SignedBytes()))

	frame := wire.Encode(m)
	if sb := m.SignedBytes(); !bytes.Equal(sb, frame[:len(frame)-ed25519.SignatureSize]) {
		t.Fatalf("SignedBytes = %x, want frame without signature %x", sb, frame[:len(frame)-64])
	}
	got, err := wire.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	a := got.(wire.Announce)
	if !ed25519.Verify(priv.Public().(ed25519.PublicKey), a.SignedBytes(), a.Signature[:]) {
		t.Fatal("signature does not verify after round trip")
	}
	a.Base++
	if ed25519.Verify(priv.Public().(ed25519.PublicKey), a.SignedBytes(), a.Signature[:]) {
		t.Fatal("signature verifies over a different Base")
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[wire.Type]string{
		wire.TypeHave:      "Have",
		wire.TypeBufferMap: "BufferMap",
		wire.TypeRequest:   "Request",
		wire.TypeChunk:     "Chunk",
		wire.TypeNotFound:  "NotFound",
		wire.TypeAnnounce:  "Announce",
		0:                  "Type(0x00)",
		0xab:               "Type(0xab)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestMaxMessageSize(t *testing.T) {
	for _, tc := range cases {
		if n := wire.EncodedLen(tc.msg); n > wire.MaxMessageSize {
			t.Errorf("%s: %d bytes > MaxMessageSize %d", tc.name, n, wire.MaxMessageSize)
		}
	}
	if n := wire.EncodedLen(wire.Chunk{Payload: make([]byte, wire.MaxPayload), Signature: make([]byte, wire.SignatureSize)}); n != wire.MaxMessageSize {
		t.Errorf("largest chunk is %d bytes, MaxMessageSize is %d", n, wire.MaxMessageSize)
	}
}

const benchPayload = 48 << 10

func BenchmarkEncodeChunk(b *testing.B) {
	m := wire.Chunk{Seq: 1, Timestamp: 1700000000000, Payload: make([]byte, benchPayload)}
	buf := make([]byte, 0, wire.EncodedLen(m))
	b.SetBytes(benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendEncode(buf[:0])
	}
}

func BenchmarkDecodeChunk(b *testing.B) {
	in := wire.Encode(wire.Chunk{Seq: 1, Timestamp: 1700000000000, Payload: make([]byte, benchPayload)})
	b.SetBytes(benchPayload)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}
