-- 0001: accounts, sessions, streams, chat and bans.
--
-- Times are INTEGER Unix milliseconds (UTC). Tables are STRICT: a value of
-- the wrong type is an error, not a silent conversion.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,      -- never reused
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE, -- ASCII only, so NOCASE is exact
    password_hash TEXT    NOT NULL,                       -- an encoded hash, never the password
    created_ms    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    token_hash BLOB    PRIMARY KEY,                     -- SHA-256 of the cookie token
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_ms);

CREATE TABLE streams (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,      -- never reused
    name        TEXT    NOT NULL COLLATE NOCASE UNIQUE, -- [A-Za-z0-9_-]{1,64}
    title       TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    owner_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    stream_key  TEXT    NOT NULL UNIQUE,                -- 128 random bits, base32
    created_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX streams_owner ON streams (owner_id);

CREATE TABLE chat_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,      -- never reused: clients refer to ids
    stream_id   INTEGER NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    nickname    TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL DEFAULT '',            -- the sender's connection, for bans; never shown
    body        TEXT    NOT NULL,
    sent_ms     INTEGER NOT NULL,
    deleted_ms  INTEGER                                 -- soft delete: NULL while visible
) STRICT;
CREATE INDEX chat_messages_stream ON chat_messages (stream_id, id);

CREATE TABLE bans (
    id         INTEGER PRIMARY KEY,
    stream_id  INTEGER NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('nickname', 'fingerprint')),
    value      TEXT    NOT NULL,                        -- nicknames lower-cased
    reason     TEXT    NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    until_ms   INTEGER,                                 -- NULL: forever
    UNIQUE (stream_id, kind, value)
) STRICT;
