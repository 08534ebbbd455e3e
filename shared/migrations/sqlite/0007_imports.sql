-- Users imported from the Flask original (`vimcar-admin import flask`). Each import is recorded under the user's id
-- (derived from the source row, shared/src/users/import.rs), in the same transaction as the user, so that a re-run
-- skips it, even once the user is deleted: a re-run never brings back a deleted user. The record holds no name,
-- address or hash.
CREATE TABLE imported_users (
    user_id     TEXT PRIMARY KEY NOT NULL,
    imported_at TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- A password that still works but fails today's rules (an imported one, found out at its first login): logins say
-- so until the user sets a new one, which clears it.
ALTER TABLE users ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0
    CHECK (password_change_required IN (0, 1));
