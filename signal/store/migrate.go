package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strconv"
	"strings"
)

// migrationFiles holds the schema, one numbered file per version.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered SQL script.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql from fsys, in order. The
// numbers must run 1, 2, 3… without gaps or repeats.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries { // ReadDir sorts by name, and names are zero-padded
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("migration %s: want a name starting %04d_", e.Name(), len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations")
	}
	return ms, nil
}

// schemaVersion returns the highest version in schema_version, 0 for a new
// database.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var exists int
	err := q.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'`).Scan(&exists)
	if err != nil || exists == 0 {
		return 0, err
	}
	var v int
	err = q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// migrate brings db to the newest migration in fsys, all pending ones in one
// transaction. If backup is a database file's path and the database has an
// older schema, it is first copied to backup.v<N>.bak.
func migrate(ctx context.Context, db *sql.DB, fsys fs.FS, backup string, log *slog.Logger) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if cur > latest {
		return fmt.Errorf("%w: version %d, this build knows up to %d: run a newer Shoal", ErrNewerSchema, cur, latest)
	}
	if cur == latest {
		return nil
	}
	if cur > 0 && backup != "" {
		// VACUUM INTO cannot run in a transaction: copy first, then
		// re-check the version under the write lock below.
		dst := fmt.Sprintf("%s.v%d.bak", backup, cur)
		if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("back up before migrating: %w", err)
		}
		if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
			return fmt.Errorf("back up before migrating to %s: %w", dst, err)
		}
		if err := os.Chmod(dst, 0o600); err != nil {
			return fmt.Errorf("back up before migrating: %w", err)
		}
		log.Info("store: backed up the database before migrating", "from_version", cur, "to_version", latest, "backup", dst)
	}

	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_ms INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	// Another process may have migrated while this one waited for the lock.
	if cur, err = schemaVersion(ctx, tx); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if cur > latest {
		return fmt.Errorf("%w: version %d, this build knows up to %d: run a newer Shoal", ErrNewerSchema, cur, latest)
	}
	for _, m := range ms[cur:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_version (version, applied_ms) VALUES (?, CAST(unixepoch('subsec') * 1000 AS INTEGER))`, m.version); err != nil {
			return fmt.Errorf("migration %s: record version: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	if cur < latest {
		log.Info("store: migrated the database schema", "from_version", cur, "to_version", latest)
	}
	return nil
}
