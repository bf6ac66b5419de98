-- Users of every platform, their backend accounts and sessions, media, jobs, clips,
-- the credit ledger and the chat references replies are posted to.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    platform         TEXT NOT NULL,
    platform_user_id TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    language         TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (platform, platform_user_id)
);

CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    backend        TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    token          TEXT,
    remote_user_id TEXT,
    expires_at     TEXT,
    anonymous      INTEGER NOT NULL DEFAULT 1,
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (user_id, backend)
);

CREATE TABLE sessions (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    chat_key          TEXT NOT NULL,
    backend           TEXT NOT NULL,
    remote_session_id TEXT NOT NULL,
    task_id           TEXT,
    language          TEXT NOT NULL DEFAULT 'en',
    state_json        TEXT NOT NULL DEFAULT '{}',
    active            INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE UNIQUE INDEX sessions_one_active ON sessions (user_id, chat_key, backend) WHERE active = 1;
CREATE INDEX sessions_remote ON sessions (backend, remote_session_id);

CREATE TABLE media (
    id         INTEGER PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    duration   REAL NOT NULL DEFAULT 0,
    info_json  TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Which media a session holds, in upload order, under the name the user gave (display only).
CREATE TABLE session_media (
    session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    media_id     INTEGER NOT NULL REFERENCES media(id),
    display_name TEXT NOT NULL DEFAULT '',
    position     INTEGER NOT NULL,
    added_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (session_id, media_id)
);

CREATE TABLE chat_refs (
    id         INTEGER PRIMARY KEY,
    platform   TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    thread_id  TEXT,
    reply_to   TEXT,
    user_id    TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    session_id   INTEGER REFERENCES sessions(id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    payload_json TEXT NOT NULL DEFAULT '{}',
    result_json  TEXT,
    progress     REAL NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 3,
    error        TEXT,
    chat_ref_id  INTEGER REFERENCES chat_refs(id),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    started_at   TEXT,
    finished_at  TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
CREATE INDEX jobs_by_user ON jobs (user_id, state);

CREATE TABLE clips (
    id             INTEGER PRIMARY KEY,
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
CREATE INDEX clips_by_session ON clips (session_id, rank);

-- grant: +available. hold: available -> frozen. release: frozen -> available. charge: frozen -> spent.
CREATE TABLE credit_ledger (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL CHECK (kind IN ('grant', 'hold', 'release', 'charge')),
    amount     INTEGER NOT NULL CHECK (amount >= 0),
    hold_ref   TEXT,
    note       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ledger_by_user ON credit_ledger (user_id);
-- A hold is opened once, and settled (released or charged) at most once.
CREATE UNIQUE INDEX ledger_one_hold ON credit_ledger (hold_ref) WHERE kind = 'hold';
CREATE UNIQUE INDEX ledger_one_settlement ON credit_ledger (hold_ref) WHERE kind IN ('release', 'charge');
