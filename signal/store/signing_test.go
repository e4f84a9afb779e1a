package store_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"sync"
	"testing"

	"github.com/shoal-live/shoal/signal/store"
)

func TestSigningKey(t *testing.T) {
	ctx := testCtx(t)
	d := openMem(t, newClock())
	first, err := d.SigningKey(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		stream  string
		same    bool // same key as first
		wantErr error
	}{
		{"same stream again", "demo", true, nil},
		{"another stream", "live", false, nil},
		{"names are exact", "Demo", false, nil},
		{"empty name", "", false, store.ErrInvalid},
		{"bad name", "a/b", false, store.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := d.SigningKey(ctx, tc.stream)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("SigningKey(%q) error = %v, want %v", tc.stream, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(k) != ed25519.PrivateKeySize {
				t.Fatalf("key is %d bytes", len(k))
			}
			if got := bytes.Equal(k, first); got != tc.same {
				t.Fatalf("same key as demo's = %v, want %v", got, tc.same)
			}
		})
	}
}

// Racing first calls for a new stream must agree on one key.
func TestSigningKeyRace(t *testing.T) {
	ctx := testCtx(t)
	d := openMem(t, newClock())
	keys := make([]ed25519.PrivateKey, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := d.SigningKey(ctx, "race")
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent SigningKey calls returned different keys")
		}
	}
}

// The key survives closing and reopening the database file.
func TestSigningKeySurvivesRestart(t *testing.T) {
	ctx := testCtx(t)
	d, path := openFile(t, newClock())
	before, err := d.SigningKey(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2 := open(t, path, newClock())
	after, err := d2.SigningKey(ctx, "live")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("the signing key changed across a restart")
	}
}
