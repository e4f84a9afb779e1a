package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxBanReasonLen is the longest ban reason, in characters.
const MaxBanReasonLen = 500

// BanKind is what a ban matches.
type BanKind string

// The kinds of ban.
const (
	// BanNickname matches a chat nickname, ignoring case.
	BanNickname BanKind = "nickname"
	// BanFingerprint matches a sender's fingerprint exactly: the chat
	// server makes it from a salted hash of the client's address, so a
	// fingerprint ban holds across reconnects and restarts.
	BanFingerprint BanKind = "fingerprint"
)

// Ban keeps a nickname or a connection out of a stream's chat until a time
// (a timeout) or forever.
type Ban struct {
	// ID is assigned by the store.
	ID       int64
	StreamID int64
	Kind     BanKind
	// Value is the nickname (stored lower-cased) or the fingerprint.
	Value  string
	Reason string
	// Label says whom the ban was for, for people (the nickname of the
	// banned message's author): a fingerprint means nothing to them. At
	// most [MaxNicknameLen] characters.
	Label string
	// Until is when the ban ends; zero for never.
	Until time.Time
	// Created is when the ban was (last) set.
	Created time.Time
}

// Forever reports whether the ban never ends.
func (b Ban) Forever() bool { return b.Until.IsZero() }

// Bans stores chat bans. A ban whose Until has passed is gone: it is neither
// listed nor matched.
type Bans interface {
	// Ban bans b.Value in b.StreamID until b.Until (zero: forever; a time
	// already past is [ErrInvalid]). Banning
	// the same nickname or fingerprint again replaces the earlier ban, so
	// a ban can be shortened or made permanent. [ErrNotFound] if the
	// stream does not exist.
	Ban(ctx context.Context, b Ban) (Ban, error)
	// Banned reports the ban, if any, that keeps nickname or fingerprint
	// out of a stream's chat; an empty nickname or fingerprint matches
	// nothing. A permanent ban wins over a timeout, a longer timeout over
	// a shorter one.
	Banned(ctx context.Context, streamID int64, nickname, fingerprint string) (Ban, bool, error)
	// ListBans lists a stream's bans in force, oldest first.
	ListBans(ctx context.Context, streamID int64) ([]Ban, error)
	// LiftBan removes a ban and reports whether it was in force.
	LiftBan(ctx context.Context, streamID, banID int64) (bool, error)
}

// banValue is the stored form of a ban's value.
func banValue(kind BanKind, v string) string {
	if kind == BanNickname {
		return strings.ToLower(v)
	}
	return v
}

const banColumns = `id, stream_id, kind, value, reason, label, created_ms, until_ms`

func scanBan(s scanner) (Ban, error) {
	var b Ban
	var created int64
	var until sql.NullInt64
	if err := s.Scan(&b.ID, &b.StreamID, &b.Kind, &b.Value, &b.Reason, &b.Label, &created, &until); err != nil {
		return Ban{}, classify(err)
	}
	b.Created = fromMillis(created)
	if until.Valid {
		b.Until = fromMillis(until.Int64)
	}
	return b, nil
}

// Ban implements [Bans].
func (d *DB) Ban(ctx context.Context, b Ban) (Ban, error) {
	switch {
	case b.Kind != BanNickname && b.Kind != BanFingerprint:
		return Ban{}, fmt.Errorf("ban in stream %d: %w: kind %q", b.StreamID, ErrInvalid, b.Kind)
	case b.Value == "" || !utf8.ValidString(b.Value) ||
		b.Kind == BanNickname && utf8.RuneCountInString(b.Value) > MaxNicknameLen ||
		b.Kind == BanFingerprint && len(b.Value) > MaxFingerprintLen:
		return Ban{}, fmt.Errorf("ban in stream %d: %w: bad %s", b.StreamID, ErrInvalid, b.Kind)
	case !utf8.ValidString(b.Reason) || utf8.RuneCountInString(b.Reason) > MaxBanReasonLen:
		return Ban{}, fmt.Errorf("ban in stream %d: %w: a reason is at most %d characters", b.StreamID, ErrInvalid, MaxBanReasonLen)
	case !utf8.ValidString(b.Label) || utf8.RuneCountInString(b.Label) > MaxNicknameLen:
		return Ban{}, fmt.Errorf("ban in stream %d: %w: a label is at most %d characters", b.StreamID, ErrInvalid, MaxNicknameLen)
	}
	now := d.nowMillis()
	var until sql.NullInt64
	if !b.Until.IsZero() {
		if millis(b.Until) <= now {
			return Ban{}, fmt.Errorf("ban in stream %d: %w: the ban would already be over", b.StreamID, ErrInvalid)
		}
		until = sql.NullInt64{Int64: millis(b.Until), Valid: true}
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM bans WHERE until_ms <= ?`, now); err != nil {
		return Ban{}, fmt.Errorf("ban in stream %d: sweep expired: %w", b.StreamID, err)
	}
	out, err := scanBan(d.db.QueryRowContext(ctx,
		`INSERT INTO bans (stream_id, kind, value, reason, label, created_ms, until_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (stream_id, kind, value) DO UPDATE
			SET reason = excluded.reason, label = excluded.label, created_ms = excluded.created_ms, until_ms = excluded.until_ms
		RETURNING `+banColumns,
		b.StreamID, string(b.Kind), banValue(b.Kind, b.Value), b.Reason, b.Label, now, until))
	if err != nil {
		return Ban{}, fmt.Errorf("ban %s in stream %d: %w", b.Kind, b.StreamID, err)
	}
	return out, nil
}

// Banned implements [Bans].
func (d *DB) Banned(ctx context.Context, streamID int64, nickname, fingerprint string) (Ban, bool, error) {
	if nickname == "" && fingerprint == "" {
		return Ban{}, false, nil
	}
	b, err := scanBan(d.db.QueryRowContext(ctx, `SELECT `+banColumns+` FROM bans
		WHERE stream_id = ? AND (until_ms IS NULL OR until_ms > ?)
			AND (kind = 'nickname' AND value = ? AND ? != '' OR kind = 'fingerprint' AND value = ? AND ? != '')
		ORDER BY until_ms IS NULL DESC, until_ms DESC LIMIT 1`,
		streamID, d.nowMillis(), banValue(BanNickname, nickname), nickname, fingerprint, fingerprint))
	switch {
	case errors.Is(err, ErrNotFound):
		return Ban{}, false, nil
	case err != nil:
		return Ban{}, false, fmt.Errorf("check bans in stream %d: %w", streamID, err)
	}
	return b, true, nil
}

// ListBans implements [Bans].
func (d *DB) ListBans(ctx context.Context, streamID int64) ([]Ban, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+banColumns+` FROM bans
		WHERE stream_id = ? AND (until_ms IS NULL OR until_ms > ?) ORDER BY created_ms, id`,
		streamID, d.nowMillis())
	if err != nil {
		return nil, fmt.Errorf("list bans of stream %d: %w", streamID, err)
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		b, err := scanBan(rows)
		if err != nil {
			return nil, fmt.Errorf("list bans of stream %d: %w", streamID, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list bans of stream %d: %w", streamID, err)
	}
	return out, nil
}

// LiftBan implements [Bans].
func (d *DB) LiftBan(ctx context.Context, streamID, banID int64) (bool, error) {
	res, err := d.db.ExecContext(ctx,
		`DELETE FROM bans WHERE id = ? AND stream_id = ? AND (until_ms IS NULL OR until_ms > ?)`,
		banID, streamID, d.nowMillis())
	if err != nil {
		return false, fmt.Errorf("lift ban %d in stream %d: %w", banID, streamID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
