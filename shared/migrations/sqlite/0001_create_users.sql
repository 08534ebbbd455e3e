-- Users. Usernames and emails arrive normalised and lower-cased, so plain UNIQUE makes them unique regardless of
-- case. Ids are UUIDv7 text, which sorts by creation time: listing pages walk the primary key.
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at    TEXT NOT NULL
) STRICT;
