-- Each stream's Ed25519 chunk-signing key (issue 6): the origin signs every
-- chunk with it and viewers verify against the public half, so it must
-- outlive restarts. Keyed by stream name, not streams.id: the demo stream and
-- -stream-keys streams are not rows of streams.
CREATE TABLE signing_keys (
    stream     TEXT    PRIMARY KEY,                    -- exact stream name
    seed       BLOB    NOT NULL CHECK (length(seed) = 32), -- Ed25519 private key seed
    created_ms INTEGER NOT NULL
) STRICT;
