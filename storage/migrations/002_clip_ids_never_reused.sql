-- Clip ids are never handed out again. Without AUTOINCREMENT SQLite reuses the highest freed
-- rowid, and a new cut deletes the session's clips, so a still-valid download link naming a
-- deleted clip's id could have named somebody else's new clip. SQLite cannot add AUTOINCREMENT
-- to a table, so the table is rebuilt (new, copy, drop, rename, index) inside the migration's
-- transaction. No table references clips, so dropping the old one touches no other rows.

CREATE TABLE clips_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    job_id         INTEGER REFERENCES jobs(id),
    media_id       INTEGER REFERENCES media(id),
    rank           INTEGER NOT NULL,
    start          REAL NOT NULL,
    "end"          REAL NOT NULL,
    score          REAL NOT NULL DEFAULT 0,
    scores_json    TEXT NOT NULL DEFAULT '{}',
    reasons_json   TEXT NOT NULL DEFAULT '[]',
    title          TEXT NOT NULL DEFAULT '',
    hashtags_json  TEXT NOT NULL DEFAULT '[]',
    text           TEXT NOT NULL DEFAULT '',
    draft_json     TEXT NOT NULL DEFAULT '{}',
    output_path    TEXT,
    thumbnail_path TEXT,
    width          INTEGER,
    height         INTEGER,
    duration       REAL,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO clips_new (id, session_id, job_id, media_id, rank, start, "end", score, scores_json, reasons_json,
                       title, hashtags_json, text, draft_json, output_path, thumbnail_path, width, height,
                       duration, created_at, updated_at)
SELECT id, session_id, job_id, media_id, rank, start, "end", score, scores_json, reasons_json,
       title, hashtags_json, text, draft_json, output_path, thumbnail_path, width, height,
       duration, created_at, updated_at
FROM clips;

DROP TABLE clips;

ALTER TABLE clips_new RENAME TO clips;

CREATE INDEX clips_by_session ON clips (session_id, rank);
