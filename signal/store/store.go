package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database's file name in the server's data directory.
const FileName = "shoal.db"

// Memory is the Path of a private in-memory database, for tests.
const Memory = ":memory:"

// busyTimeout is how long a statement waits for another process's lock
// before failing with "database is locked".
const busyTimeout = 5 * time.Second

// Config configures [Open].
type Config struct {
	// Path is the database file, created (mode 0600) with its directory
	// (mode 0700) if missing, or [Memory] for a private in-memory database.
	Path string
	// Now is the clock for creation times and expiry; defaults to time.Now.
	Now func() time.Time
	// Logger receives a line when the schema is migrated; defaults to
	// discarding.
	Logger *slog.Logger
}

// DB is the SQLite store. It implements [Accounts], [Sessions], [Streams],
// [Chat] and [Bans]; all its methods are safe for concurrent use.
type DB struct {
	db  *sql.DB
	now func() time.Time
}

// The interfaces DB implements.
var (
	_ Accounts = (*DB)(nil)
	_ Sessions = (*DB)(nil)
	_ Streams  = (*DB)(nil)
	_ Chat     = (*DB)(nil)
	_ Bans     = (*DB)(nil)
)

// Open opens the database at cfg.Path, creating it if needed, and migrates
// its schema to this build's (see the package documentation). It fails with
// [ErrNewerSchema] if a newer build wrote the database.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("store: open: %w: empty path (use store.Memory for an in-memory database)", ErrInvalid)
	}
	if strings.ContainsRune(cfg.Path, '?') {
		return nil, fmt.Errorf("store: open %s: %w: the path must not contain '?'", cfg.Path, ErrInvalid)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	mem := cfg.Path == Memory
	if !mem {
		// The file holds password hashes and stream keys: only the server's
		// user may read it (SQLite gives the -wal and -shm files the same
		// mode).
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store: open: %w", err)
		}
		f.Close()
	}
	sdb, err := connect(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", cfg.Path, err)
	}
	backup := ""
	if !mem {
		backup = cfg.Path
	}
	if err := migrate(ctx, sdb, migrationFiles, backup, cfg.Logger); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", cfg.Path, err)
	}
	return &DB{db: sdb, now: cfg.Now}, nil
}

// connect opens the database at path without migrating it.
func connect(path string) (*sql.DB, error) {
	dsn := path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=journal_mode(WAL)", // in-memory databases keep their "memory" journal
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	}, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: statements are serialised, an in-memory database
	// lives as long as the DB, and a transaction never waits on itself.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Close closes the database. Calls in flight finish first.
func (d *DB) Close() error {
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// SchemaVersion returns the version of the database's schema, the number of
// the last migration applied.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	v, err := schemaVersion(ctx, d.db)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// millis converts t to the stored form, Unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

// fromMillis converts a stored time back, in UTC.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nowMillis is the store's clock in stored form.
func (d *DB) nowMillis() int64 { return millis(d.now()) }

// classify maps a driver error to a sentinel: a uniqueness violation to
// ErrConflict, a dangling reference to ErrNotFound, no row to ErrNotFound.
// Other errors are returned as they are.
func classify(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ErrNotFound
		}
	}
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}
