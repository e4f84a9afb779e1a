package store_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testCtx is a context that ends with the test, or after 30 s.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openMem opens an in-memory store on clk, closed at the end of the test.
func openMem(t *testing.T, clk *clock) *store.DB {
	t.Helper()
	return open(t, store.Memory, clk)
}

// openFile opens the store in a file in a fresh temporary directory.
func openFile(t *testing.T, clk *clock) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", store.FileName)
	return open(t, path, clk), path
}

func open(t *testing.T, path string, clk *clock) *store.DB {
	t.Helper()
	db, err := store.Open(testCtx(t), store.Config{Path: path, Now: clk.Now})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fixture is a store with one account owning one stream.
type fixture struct {
	db      *store.DB
	clk     *clock
	account store.Account
	stream  store.Stream
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := testCtx(t)
	clk := newClock()
	db := openMem(t, clk)
	a, err := db.CreateAccount(ctx, "owner", "hash")
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.CreateStream(ctx, store.NewStream{Name: "live", Title: "Live", OwnerID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{db: db, clk: clk, account: a, stream: s}
}
