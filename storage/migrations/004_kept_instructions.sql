-- What a person asked together with a link or file the bot could not open, kept for the file they
-- send next in that chat (one per person and chat: newer words replace it, /new and its use remove it).
-- Kept here rather than in the bot's memory, so a restart does not forget it.

CREATE TABLE kept_instructions (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_key    TEXT NOT NULL,
    instruction TEXT NOT NULL,
    kept_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (user_id, chat_key)
);
