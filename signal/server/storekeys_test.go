package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shoal-live/shoal/signal/server"
	"github.com/shoal-live/shoal/signal/store"
)

// TestIngestKeysFromStore: a stream in the store publishes with its key,
// which stops working once regenerated; -stream-keys still work.
func TestIngestKeysFromStore(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	db, err := store.Open(ctx, store.Config{Path: store.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, err := db.CreateAccount(ctx, "alice", "hash")
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.CreateStream(ctx, store.NewStream{Name: "mine", OwnerID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, StreamKeys: map[string]string{"live": "statickey"}}, fstest.MapFS{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Store() != db {
		t.Fatal("Store() is not the configured store")
	}
	base := serve(t, ctx, srv)
	old := st.Key
	if st, err = db.RegenerateStreamKey(ctx, st.ID); err != nil {
		t.Fatal(err)
	}

	// 415 (wrong Content-Type) means the key was accepted; 401 refused.
	tests := []struct {
		name, stream, key string
		want              int
	}{
		{"store key", "mine", st.Key, http.StatusUnsupportedMediaType},
		{"regenerated-away key", "mine", old, http.StatusUnauthorized},
		{"another stream's key", "live", st.Key, http.StatusUnauthorized},
		{"static key", "live", "statickey", http.StatusUnsupportedMediaType},
		{"static key on a store stream", "mine", "statickey", http.StatusUnauthorized},
		{"unknown stream", "nope", st.Key, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, base+"/api/whip/"+tc.stream, strings.NewReader("x"))
			req.Header.Set("Authorization", "Bearer "+tc.key)
			req.Header.Set("Content-Type", "text/plain")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
