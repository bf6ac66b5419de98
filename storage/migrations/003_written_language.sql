-- The language of a person's last words ("en", "zh"), kept across restarts: a file, a bare link or a
-- /command has no words of its own, and is answered in the language the person has been writing.
-- `language` stays what the platform says of them (Telegram's language_code).

ALTER TABLE users ADD COLUMN written_language TEXT;
