-- Username skeletons (UTS #39; shared/src/users/skeleton.rs): a name that looks like a taken one (`аdmin` with a
-- Cyrillic `а` beside `admin`) has the same skeleton, and this UNIQUE index refuses it in the same INSERT as the
-- username's own UNIQUE constraint, so no race can slip a look-alike in.
--
-- SQL cannot compute a skeleton: this migration's Rust hook (fill_skeletons in sqlite.rs) fills in the rows stored
-- before, oldest first. Look-alikes registered before this migration must not make it fail, and neither may be
-- renamed behind their owners' backs: the older one takes the skeleton, a younger one keeps NULL (which UNIQUE
-- allows any number of times). Both go on working; only new names are refused. Every new row carries a skeleton.
ALTER TABLE users ADD COLUMN username_skeleton TEXT;

CREATE UNIQUE INDEX users_by_username_skeleton ON users (username_skeleton);
