-- Sessions: one row per login, ended by logout, reuse of a spent refresh token, expiry or the user's deletion (the
-- cascade below; the connection turns foreign keys on). No token is stored: a refresh token is an HMAC over the
-- user, the session and its generation, under a key only the functions hold (shared/src/sessions/refresh_token.rs).
-- Times are the same sortable text as everywhere else; expired rows are pruned whenever a session begins.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    generation      INTEGER NOT NULL CHECK (generation >= 0),
    created_at      TEXT NOT NULL,
    refreshed_at    TEXT NOT NULL,
    idle_expires_at TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id, id);
CREATE INDEX sessions_by_expiry ON sessions (idle_expires_at);
