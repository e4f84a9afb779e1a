package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/shoal-live/shoal/shared/signaling"
)

// Limits on a stream's fields.
const (
	MaxTitleLen       = 200  // characters
	MaxDescriptionLen = 5000 // characters
)

// streamKeyLen is the length of a key from rand.Text: 128 bits in base32.
const streamKeyLen = 26

const errStreamNameMessage = "a stream name is 1 to 64 of A-Z a-z 0-9 _ -"

// Stream is a channel a broadcaster publishes to.
type Stream struct {
	ID int64
	// Name is the stream's URL name (/watch/<name>): unique regardless of
	// case, looked up exactly.
	Name        string
	Title       string
	Description string
	OwnerID     int64
	// Key is the secret that lets a broadcaster publish (RTMP stream key,
	// WHIP bearer token): 26 characters of base32, 128 random bits.
	Key     string
	Created time.Time
}

// NewStream is what [Streams.CreateStream] needs.
type NewStream struct {
	Name        string
	Title       string
	Description string
	OwnerID     int64
}

// Streams stores streams and their keys. Owners are checked by the caller:
// the store does not know who is asking.
type Streams interface {
	// CreateStream adds a stream with a fresh key. [ErrInvalid] for a bad
	// name or an over-long title or description, [ErrConflict] if the name
	// is taken (in any case), [ErrNotFound] if the owner does not exist.
	CreateStream(ctx context.Context, s NewStream) (Stream, error)
	// StreamsByOwner lists an account's streams by name, ignoring case.
	StreamsByOwner(ctx context.Context, ownerID int64) ([]Stream, error)
	// StreamByName finds a stream by its exact name; [ErrNotFound] if none.
	StreamByName(ctx context.Context, name string) (Stream, error)
	// StreamByKey finds the stream a key publishes to; [ErrNotFound] if
	// none.
	StreamByKey(ctx context.Context, key string) (Stream, error)
	// UpdateStream sets a stream's title and description.
	UpdateStream(ctx context.Context, id int64, title, description string) (Stream, error)
	// RegenerateStreamKey gives a stream a fresh key; the old one stops
	// working at once.
	RegenerateStreamKey(ctx context.Context, id int64) (Stream, error)
	// DeleteStream removes a stream with its chat and bans.
	DeleteStream(ctx context.Context, id int64) error
}

func checkStreamText(title, description string) error {
	if !utf8.ValidString(title) || utf8.RuneCountInString(title) > MaxTitleLen {
		return fmt.Errorf("%w: a title is at most %d characters of UTF-8", ErrInvalid, MaxTitleLen)
	}
	if !utf8.ValidString(description) || utf8.RuneCountInString(description) > MaxDescriptionLen {
		return fmt.Errorf("%w: a description is at most %d characters of UTF-8", ErrInvalid, MaxDescriptionLen)
	}
	return nil
}

const streamColumns = `id, name, title, description, owner_id, stream_key, created_ms`

func scanStream(s scanner) (Stream, error) {
	var st Stream
	var created int64
	if err := s.Scan(&st.ID, &st.Name, &st.Title, &st.Description, &st.OwnerID, &st.Key, &created); err != nil {
		return Stream{}, classify(err)
	}
	st.Created = fromMillis(created)
	return st, nil
}

// CreateStream implements [Streams].
func (d *DB) CreateStream(ctx context.Context, s NewStream) (Stream, error) {
	if !signaling.ValidStream(s.Name) {
		return Stream{}, fmt.Errorf("create stream %q: %w: %s", s.Name, ErrInvalid, errStreamNameMessage)
	}
	if err := checkStreamText(s.Title, s.Description); err != nil {
		return Stream{}, fmt.Errorf("create stream %q: %w", s.Name, err)
	}
	st, err := scanStream(d.db.QueryRowContext(ctx,
		`INSERT INTO streams (name, title, description, owner_id, stream_key, created_ms)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+streamColumns,
		s.Name, s.Title, s.Description, s.OwnerID, rand.Text(), d.nowMillis()))
	if err != nil {
		return Stream{}, fmt.Errorf("create stream %q: %w", s.Name, err)
	}
	return st, nil
}

// StreamsByOwner implements [Streams].
func (d *DB) StreamsByOwner(ctx context.Context, ownerID int64) ([]Stream, error) {
	rows, err := d.db.QueryContext(ctx,
		`SELECT `+streamColumns+` FROM streams WHERE owner_id = ? ORDER BY name`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("streams of account %d: %w", ownerID, err)
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		st, err := scanStream(rows)
		if err != nil {
			return nil, fmt.Errorf("streams of account %d: %w", ownerID, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("streams of account %d: %w", ownerID, err)
	}
	return out, nil
}

// StreamByName implements [Streams].
func (d *DB) StreamByName(ctx context.Context, name string) (Stream, error) {
	st, err := scanStream(d.db.QueryRowContext(ctx,
		`SELECT `+streamColumns+` FROM streams WHERE name = ? COLLATE BINARY`, name))
	if err != nil {
		return Stream{}, fmt.Errorf("stream %q: %w", name, err)
	}
	return st, nil
}

// StreamByKey implements [Streams].
func (d *DB) StreamByKey(ctx context.Context, key string) (Stream, error) {
	if len(key) != streamKeyLen {
		return Stream{}, fmt.Errorf("stream by key: %w", ErrNotFound)
	}
	st, err := scanStream(d.db.QueryRowContext(ctx,
		`SELECT `+streamColumns+` FROM streams WHERE stream_key = ?`, key))
	if err != nil {
		return Stream{}, fmt.Errorf("stream by key: %w", err) // never put the key in an error
	}
	return st, nil
}

// UpdateStream implements [Streams].
func (d *DB) UpdateStream(ctx context.Context, id int64, title, description string) (Stream, error) {
	if err := checkStreamText(title, description); err != nil {
		return Stream{}, fmt.Errorf("update stream %d: %w", id, err)
	}
	st, err := scanStream(d.db.QueryRowContext(ctx,
		`UPDATE streams SET title = ?, description = ? WHERE id = ? RETURNING `+streamColumns,
		title, description, id))
	if err != nil {
		return Stream{}, fmt.Errorf("update stream %d: %w", id, err)
	}
	return st, nil
}

// RegenerateStreamKey implements [Streams].
func (d *DB) RegenerateStreamKey(ctx context.Context, id int64) (Stream, error) {
	st, err := scanStream(d.db.QueryRowContext(ctx,
		`UPDATE streams SET stream_key = ? WHERE id = ? RETURNING `+streamColumns, rand.Text(), id))
	if err != nil {
		return Stream{}, fmt.Errorf("regenerate key of stream %d: %w", id, err)
	}
	return st, nil
}

// DeleteStream implements [Streams].
func (d *DB) DeleteStream(ctx context.Context, id int64) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM streams WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete stream %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete stream %d: %w", id, ErrNotFound)
	}
	return nil
}
