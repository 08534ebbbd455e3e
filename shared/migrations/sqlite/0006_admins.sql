-- Administrators: a flag on the user, false for everyone until `vimcar-admin users grant-admin` sets it. Every request
-- reads it from here, never from a token, so a demotion takes effect at once.
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1));
