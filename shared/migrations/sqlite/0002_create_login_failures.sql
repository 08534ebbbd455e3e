-- Consecutive failed logins per account name (known or not), for login throttling. A row expires a day after its
-- last failure; expired rows read as absent and are pruned whenever a failure is recorded.
CREATE TABLE login_failures (
    account         TEXT PRIMARY KEY NOT NULL,
    failures        INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    expires_at      TEXT NOT NULL
) STRICT;

CREATE INDEX login_failures_by_expiry ON login_failures (expires_at);
