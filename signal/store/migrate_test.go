package store

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestMigrationFilesAreNumbered(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 || !strings.HasPrefix(m.name, "000") {
			t.Errorf("migration %d is %s", i+1, m.name)
		}
	}
	for _, tc := range []struct {
		name  string
		files []string
	}{
		{"gap", []string{"0001_a.sql", "0003_c.sql"}},
		{"repeat", []string{"0001_a.sql", "0001_b.sql"}},
		{"no number", []string{"0001_a.sql", "init.sql"}},
		{"not from 1", []string{"0002_b.sql"}},
		{"none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"migrations/README": {Data: []byte("x")}}
			for _, f := range tc.files {
				fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
			}
			if _, err := loadMigrations(fsys); err == nil {
				t.Errorf("loadMigrations(%v) succeeded", tc.files)
			}
		})
	}
}

// versions returns the rows of schema_version.
func versions(t *testing.T, d *DB) []int {
	t.Helper()
	rows, err := d.db.QueryContext(t.Context(), `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].version
	for i := range 3 { // open, reopen, reopen: only the first migrates
		d, err := Open(ctx, Config{Path: path})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if v, err := d.SchemaVersion(ctx); err != nil || v != latest {
			t.Errorf("open %d: SchemaVersion = %d, %v; want %d", i, v, err, latest)
		}
		if vs := versions(t, d); len(vs) != latest {
			t.Errorf("open %d: schema_version rows %v", i, vs)
		}
		// Migrating an up-to-date database again changes nothing.
		if err := migrate(ctx, d.db, migrationFiles, path, slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("open %d: migrate again: %v", i, err)
		}
		d.Close()
	}
	if _, err := os.Stat(path + ".v1.bak"); !os.IsNotExist(err) {
		t.Errorf("a backup was made of an up-to-date database: %v", err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	d, err := Open(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.ExecContext(ctx, `INSERT INTO schema_version (version, applied_ms) VALUES (999, 0)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	d, err = Open(ctx, Config{Path: path})
	if err == nil {
		d.Close()
		t.Fatal("Open of a newer database succeeded")
	}
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "999") {
		t.Errorf("Open = %v, want ErrNewerSchema naming version 999", err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("the refused database was modified")
	}
}

// TestUpgrade migrates a version-1 database to version 2 with a made-up
// second migration: the data stays, the new column appears, the old file
// is backed up first, and a failing migration leaves the database as it was.
func TestUpgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), FileName)
	v1, err := fs.ReadFile(migrationFiles, "migrations/0001_initial.sql")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	d, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	one := fstest.MapFS{"migrations/0001_initial.sql": {Data: v1}}
	if err := migrate(ctx, d.db, one, path, log); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateAccount(ctx, "alice", "h"); err != nil {
		t.Fatal(err)
	}

	broken := fstest.MapFS{
		"migrations/0001_initial.sql": {Data: v1},
		"migrations/0002_ok.sql":      {Data: []byte(`ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;`)},
		"migrations/0003_bad.sql":     {Data: []byte(`ALTER TABLE nonexistent ADD COLUMN x;`)},
	}
	if err := migrate(ctx, d.db, broken, path, log); err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
		t.Fatalf("broken migration: %v", err)
	}
	if vs := versions(t, d); len(vs) != 1 {
		t.Errorf("after a failed migration, versions %v; want [1]", vs)
	}
	if _, err := d.db.ExecContext(ctx, `SELECT admin FROM accounts`); err == nil {
		t.Error("0002 applied although 0003 failed: migrations are not one transaction")
	}

	two := fstest.MapFS{
		"migrations/0001_initial.sql": {Data: v1},
		"migrations/0002_admin.sql":   {Data: []byte(`ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;`)},
	}
	if err := migrate(ctx, d.db, two, path, log); err != nil {
		t.Fatal(err)
	}
	if vs := versions(t, d); len(vs) != 2 || vs[1] != 2 {
		t.Errorf("versions %v; want [1 2]", vs)
	}
	var admin int
	if err := d.db.QueryRowContext(ctx, `SELECT admin FROM accounts WHERE username = 'alice'`).Scan(&admin); err != nil {
		t.Errorf("the upgraded database lost its data or its new column: %v", err)
	}
	if fi, err := os.Stat(path + ".v1.bak"); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want 0600", fi.Mode())
	}
	bak, err := openRaw(path + ".v1.bak")
	if err != nil {
		t.Fatal(err)
	}
	defer bak.Close()
	if v, err := bak.SchemaVersion(ctx); err != nil || v != 1 {
		t.Errorf("backup version %d, %v; want 1", v, err)
	}
	if _, err := bak.AccountByUsername(ctx, "alice"); err != nil {
		t.Errorf("backup lacks the data: %v", err)
	}
}

// openRaw opens a database file without migrating it.
func openRaw(path string) (*DB, error) {
	db, err := connect(path)
	if err != nil {
		return nil, err
	}
	return &DB{db: db, now: time.Now}, nil
}

// TestPragmas checks the settings every connection gets.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	d, err := Open(ctx, Config{Path: filepath.Join(t.TempDir(), FileName)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		if err := d.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil || got != tc.want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", tc.pragma, got, err, tc.want)
		}
	}
}
