package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits on chat messages. The chat server may enforce tighter ones; these
// bound what a message can cost to keep.
const (
	MaxNicknameLen    = 64   // characters
	MaxChatTextLen    = 2000 // characters
	MaxFingerprintLen = 128  // bytes
	MaxRecentChat     = 100  // messages RecentChat returns at most
)

// ChatMessage is one line of a stream's chat.
type ChatMessage struct {
	// ID is assigned by AppendChat; ids increase with time and are never
	// reused.
	ID       int64
	StreamID int64
	Nickname string
	// Fingerprint identifies the sender's connection so that a moderator
	// can ban it (see [Bans]); it is never shown to viewers.
	Fingerprint string
	Text        string
	// Time is when the message was sent; AppendChat sets it to now if it
	// is zero.
	Time time.Time
}

// Chat stores chat history.
type Chat interface {
	// AppendChat stores a message and returns it with its ID (and Time if
	// it was zero). [ErrNotFound] if the stream does not exist,
	// [ErrInvalid] for an empty or over-long nickname or text.
	AppendChat(ctx context.Context, m ChatMessage) (ChatMessage, error)
	// RecentChat returns the last n (at most [MaxRecentChat]) messages of
	// a stream that are not deleted, oldest first.
	RecentChat(ctx context.Context, streamID int64, n int) ([]ChatMessage, error)
	// DeleteChat hides a message of a stream from everyone (the row is kept
	// and marked deleted). It reports whether a visible message was hidden:
	// false if there was none or it was deleted already.
	DeleteChat(ctx context.Context, streamID, id int64) (bool, error)
	// PruneChat deletes, for good, the messages sent before before (zero:
	// none by age) and, per stream, all but the newest keep (0: none by
	// count), deleted ones included. streamID 0 prunes every stream. It
	// returns how many messages went.
	PruneChat(ctx context.Context, streamID int64, before time.Time, keep int) (int, error)
}

func checkChat(m ChatMessage) error {
	switch {
	case m.Nickname == "" || !utf8.ValidString(m.Nickname) || utf8.RuneCountInString(m.Nickname) > MaxNicknameLen:
		return fmt.Errorf("%w: a nickname is 1 to %d characters of UTF-8", ErrInvalid, MaxNicknameLen)
	case m.Text == "" || !utf8.ValidString(m.Text) || utf8.RuneCountInString(m.Text) > MaxChatTextLen:
		return fmt.Errorf("%w: a chat message is 1 to %d characters of UTF-8", ErrInvalid, MaxChatTextLen)
	case len(m.Fingerprint) > MaxFingerprintLen:
		return fmt.Errorf("%w: a fingerprint is at most %d bytes", ErrInvalid, MaxFingerprintLen)
	}
	return nil
}

// AppendChat implements [Chat].
func (d *DB) AppendChat(ctx context.Context, m ChatMessage) (ChatMessage, error) {
	if err := checkChat(m); err != nil {
		return ChatMessage{}, fmt.Errorf("append chat to stream %d: %w", m.StreamID, err)
	}
	sent := d.nowMillis()
	if !m.Time.IsZero() {
		sent = millis(m.Time)
	}
	err := d.db.QueryRowContext(ctx,
		`INSERT INTO chat_messages (stream_id, nickname, fingerprint, body, sent_ms) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		m.StreamID, m.Nickname, m.Fingerprint, m.Text, sent).Scan(&m.ID)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("append chat to stream %d: %w", m.StreamID, classify(err))
	}
	m.Time = fromMillis(sent)
	return m, nil
}

// RecentChat implements [Chat].
func (d *DB) RecentChat(ctx context.Context, streamID int64, n int) ([]ChatMessage, error) {
	n = min(n, MaxRecentChat)
	if n <= 0 {
		return nil, nil
	}
	rows, err := d.db.QueryContext(ctx, `SELECT * FROM (
			SELECT id, nickname, fingerprint, body, sent_ms FROM chat_messages
			WHERE stream_id = ? AND deleted_ms IS NULL ORDER BY id DESC LIMIT ?
		) ORDER BY id`, streamID, n)
	if err != nil {
		return nil, fmt.Errorf("recent chat of stream %d: %w", streamID, err)
	}
	defer rows.Close()
	out := make([]ChatMessage, 0, n)
	for rows.Next() {
		m := ChatMessage{StreamID: streamID}
		var sent int64
		if err := rows.Scan(&m.ID, &m.Nickname, &m.Fingerprint, &m.Text, &sent); err != nil {
			return nil, fmt.Errorf("recent chat of stream %d: %w", streamID, err)
		}
		m.Time = fromMillis(sent)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent chat of stream %d: %w", streamID, err)
	}
	return out, nil
}

// DeleteChat implements [Chat].
func (d *DB) DeleteChat(ctx context.Context, streamID, id int64) (bool, error) {
	res, err := d.db.ExecContext(ctx,
		`UPDATE chat_messages SET deleted_ms = ? WHERE id = ? AND stream_id = ? AND deleted_ms IS NULL`,
		d.nowMillis(), id, streamID)
	if err != nil {
		return false, fmt.Errorf("delete chat message %d of stream %d: %w", id, streamID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// PruneChat implements [Chat].
func (d *DB) PruneChat(ctx context.Context, streamID int64, before time.Time, keep int) (int, error) {
	total := 0
	exec := func(q string, args ...any) error {
		res, err := d.db.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("prune chat of stream %d: %w", streamID, err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		return nil
	}
	if !before.IsZero() {
		q, args := `DELETE FROM chat_messages WHERE sent_ms < ?`, []any{millis(before)}
		if streamID != 0 {
			q, args = q+` AND stream_id = ?`, append(args, streamID)
		}
		if err := exec(q, args...); err != nil {
			return total, err
		}
	}
	if keep > 0 {
		var err error
		if streamID != 0 {
			// Everything at or below the id of the (keep+1)-th newest: one
			// index walk of keep rows.
			err = exec(`DELETE FROM chat_messages WHERE stream_id = ?1 AND id <= (
				SELECT id FROM chat_messages WHERE stream_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)`, streamID, keep)
		} else {
			err = exec(`DELETE FROM chat_messages WHERE id IN (
				SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY stream_id ORDER BY id DESC) AS n FROM chat_messages)
				WHERE n > ?)`, keep)
		}
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
