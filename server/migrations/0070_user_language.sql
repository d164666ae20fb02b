-- Each user's own page language (NULL: the site's default, Korean).
ALTER TABLE users ADD COLUMN lang text CHECK (lang IN ('ko', 'en'));
