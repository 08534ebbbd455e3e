-- Login throttling moves to attempt counters under keyed hashes (shared/src/auth/throttle.rs). The old table kept
-- names as typed, which could be a password typed into the username field: it goes, with what it held.
DROP TABLE login_failures;

-- One counter per key: attempts counted before each password check, the last one's time, and when it expires.
-- Expired rows read as absent and are pruned whenever an attempt is counted.
CREATE TABLE login_attempts (
    key             TEXT PRIMARY KEY NOT NULL,
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    last_attempt_at TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX login_attempts_by_expiry ON login_attempts (expires_at);
