// Package store keeps the server's persistent state: accounts, login
// sessions, streams and their keys, chat history and bans. The default
// backend is an embedded SQLite database (modernc.org/sqlite, pure Go) in one
// file under the server's data directory.
//
//	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dataDir, store.FileName)})
//	if err != nil {
//		return err // errors.Is(err, store.ErrNewerSchema): a newer Shoal wrote it
//	}
//	defer db.Close()
//
//	acct, err := db.CreateAccount(ctx, "alice", hash) // hash from package auth
//	s, err := db.CreateStream(ctx, store.NewStream{Name: "live", OwnerID: acct.ID})
//	fmt.Println(s.Key) // 26 base32 characters, 128 random bits
//
// Tests use Path ":memory:" for a private database that vanishes on Close.
//
// # Interfaces
//
// [*DB] implements small interfaces, one per concern: [Accounts],
// [Sessions], [Streams], [Chat] and [Bans], [SigningKeys] (each stream's
// chunk-signing key) and [Secrets] (random values the server keeps across
// restarts, such as the salt of the chat's address hashes). There is deliberately no
// interface of everything: a consumer declares the few methods it uses (the
// way package auth does), and the server holds the *DB.
//
// # Schema
//
// The schema is the numbered SQL files in migrations/, embedded into the
// binary. [Open] applies the missing ones in order, in one transaction, and
// records each in the schema_version table. A database whose version is newer
// than the newest migration is refused with [ErrNewerSchema]; an older file
// database is first copied to "<path>.v<N>.bak" (N its version) with VACUUM
// INTO. To change the schema, add the next file (0002_what.sql); never edit
// one that has shipped.
//
// # Concurrency
//
// Every method is safe for concurrent use. The database runs in WAL mode
// through a single connection, so statements from one process are
// serialised; another process on the same file (`shoal -create-account`
// while the server runs) waits for the lock up to a busy timeout of 5 s, and
// every transaction takes the write lock when it begins (BEGIN IMMEDIATE)
// so two writers never deadlock.
//
// # Chat retention
//
// [DB.PruneChat] deletes a stream's messages by age and by count; the chat
// hub calls it for a stream on every message and for all streams on a
// schedule, so chat_messages (with the senders' address fingerprints) stays
// bounded.
//
// # Errors
//
// Errors wrap a sentinel ([ErrNotFound], [ErrConflict], [ErrInvalid],
// [ErrNewerSchema]) or the driver's error with the operation that failed.
package store
