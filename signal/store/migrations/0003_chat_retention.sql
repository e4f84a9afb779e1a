-- 0003: chat retention and address bans (issue 12).
--
-- Chat history is pruned by age and by count per stream (store.PruneChat):
-- the index serves the age sweep. server_secrets holds random values the
-- server must keep across restarts, such as the salt of the chat's address
-- hashes (a ban by address must still match after a restart).
CREATE INDEX chat_messages_sent ON chat_messages (sent_ms);

CREATE TABLE server_secrets (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

-- Who a ban was for, for the studio's list: the nickname of the message
-- whose author was banned (an address ban's value is a salted hash).
ALTER TABLE bans ADD COLUMN label TEXT NOT NULL DEFAULT '';
