package wire_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/shoal-live/shoal/shared/wire"
)

// FuzzDecode checks that Decode never panics and that the encoding is
// canonical: whatever Decode accepts, Encode reproduces byte for byte.
// Crashers are kept in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	// Seeds over maxSeed bytes (the max-payload chunk, the oversized
	// inputs) are left out: minimizing an interesting 64 KiB input stalls
	// the fuzzer for its whole -fuzzminimizetime. Those paths are covered
	// by the tables.
	const maxSeed = 4 << 10
	add := func(in []byte) {
		if len(in) <= maxSeed {
			f.Add(in)
		}
	}
	for _, tc := range cases {
		in := wire.Encode(tc.msg)
		add(in)
		add(in[:len(in)-1])
	}
	for _, tc := range badCases {
		if tc.hex != "" {
			add(mustHex(f, tc.hex))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := wire.Decode(in)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned %#v with error %v", m, err)
			}
			return
		}
		if err := wire.Validate(m); err != nil {
			t.Fatalf("decoded message fails Validate: %v", err)
		}
		re := wire.Encode(m)
		if !bytes.Equal(re, in) {
			t.Fatalf("Encode(Decode(%x)) = %x, not canonical", in, re)
		}
		if n := wire.EncodedLen(m); n != len(in) {
			t.Fatalf("EncodedLen = %d, want %d", n, len(in))
		}
		m2, err := wire.Decode(re)
		if err != nil || !reflect.DeepEqual(m2, m) {
			t.Fatalf("round trip: Decode(Encode(m)) = %#v, %v; want %#v", m2, err, m)
		}
		if a, ok := m.(wire.Announce); ok && !bytes.Equal(a.SignedBytes(), in[:len(in)-64]) {
			t.Fatalf("SignedBytes is not the frame without its signature")
		}
	})
}
