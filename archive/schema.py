"""The archive's SQL schema, as sqlite-utils migrations: the only place tables are defined.

Each migration runs in one transaction together with its record in `_sqlite_migrations`, so an
archive is always at a known version; `apply_migrations` upgrades an older file when it is opened.
Schemas change only here, by adding a migration (never `alter=True`, never editing an applied one).
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from reviewhoard.archive.errors import ArchiveUnreadable

MIGRATION_SET = "reviewhoard"

migrations = Migrations(MIGRATION_SET)


_INITIAL = """
CREATE TABLE crawls (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL,
    args TEXT,
    outcome TEXT NOT NULL DEFAULT 'running',
    finish_reason TEXT,
    reviews_new INTEGER NOT NULL DEFAULT 0,
    reviews_updated INTEGER NOT NULL DEFAULT 0,
    reviews_unchanged INTEGER NOT NULL DEFAULT 0,
    reviews_rejected INTEGER NOT NULL DEFAULT 0,
    pages_stored INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    alarms TEXT
);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    site TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    last_fetched_at TEXT NOT NULL,
    fetch_count INTEGER NOT NULL DEFAULT 1,
    body_size INTEGER NOT NULL,
    compression TEXT NOT NULL,
    body BLOB NOT NULL,
    parser_version TEXT NOT NULL,
    crawl_id INTEGER REFERENCES crawls(id)
);
CREATE INDEX idx_pages_url ON pages(url);
CREATE TABLE subjects (
    site TEXT NOT NULL,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    title TEXT,
    url TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (site, type, subject_id)
);
CREATE TABLE authors (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT,
    former_names TEXT NOT NULL DEFAULT '[]',
    renamed_at TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    UNIQUE (site, name)
);
CREATE TABLE reviews (
    site TEXT NOT NULL,
    review_id TEXT NOT NULL,
    url TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_title TEXT,
    author_id INTEGER NOT NULL REFERENCES authors(id),
    author_name TEXT NOT NULL,
    published_at TEXT NOT NULL,
    rating NUMERIC,
    rating_scale NUMERIC,
    recommendation TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    is_spoiler INTEGER,
    is_preliminary INTEGER NOT NULL DEFAULT 0,
    progress_seen INTEGER,
    progress_total INTEGER,
    progress_unit TEXT,
    reactions TEXT,
    helpful_count INTEGER,
    sub_scores TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version_count INTEGER NOT NULL DEFAULT 1,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    gone_at TEXT,
    page_id INTEGER REFERENCES pages(id),
    PRIMARY KEY (site, review_id),
    FOREIGN KEY (site, subject_type, subject_id) REFERENCES subjects(site, type, subject_id)
);
CREATE INDEX idx_reviews_subject ON reviews(site, subject_type, subject_id);
CREATE INDEX idx_reviews_published ON reviews(published_at);
CREATE INDEX idx_reviews_author ON reviews(author_id);
CREATE TABLE review_versions (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    review_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    rating NUMERIC,
    text TEXT,
    first_seen_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    page_id INTEGER REFERENCES pages(id),
    crawl_id INTEGER REFERENCES crawls(id),
    UNIQUE (site, review_id, content_hash),
    FOREIGN KEY (site, review_id) REFERENCES reviews(site, review_id)
);
CREATE TABLE reaction_counts (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    review_id TEXT NOT NULL,
    observed_at TEXT NOT NULL,
    reactions TEXT,
    helpful_count INTEGER,
    page_id INTEGER REFERENCES pages(id),
    crawl_id INTEGER REFERENCES crawls(id),
    FOREIGN KEY (site, review_id) REFERENCES reviews(site, review_id)
);
CREATE INDEX idx_reaction_counts_review ON reaction_counts(site, review_id);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    slug TEXT NOT NULL,
    UNIQUE (site, slug)
);
CREATE TABLE review_tags (
    site TEXT NOT NULL,
    review_id TEXT NOT NULL,
    tag_id INTEGER NOT NULL REFERENCES tags(id),
    position INTEGER NOT NULL,
    PRIMARY KEY (site, review_id, tag_id),
    FOREIGN KEY (site, review_id) REFERENCES reviews(site, review_id)
) WITHOUT ROWID;
CREATE INDEX idx_review_tags_tag ON review_tags(tag_id);
CREATE TABLE rejects (
    id INTEGER PRIMARY KEY,
    rejected_at TEXT NOT NULL,
    site TEXT,
    review_id TEXT,
    reason TEXT NOT NULL,
    page_url TEXT,
    page_id INTEGER REFERENCES pages(id),
    crawl_id INTEGER REFERENCES crawls(id),
    item TEXT NOT NULL
);
CREATE VIRTUAL TABLE reviews_fts USING fts5(
    text, subject_title, author_name,
    content='reviews', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
"""


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    """Every table of the first archive layout, with FTS5 over `reviews` (external content)."""
    db.executescript(_INITIAL)


@migrations(name="0002_edited_reviews_view")
def m0002_edited_reviews_view(db: Database) -> None:
    """A view of reviews with more than one version, for analysts and Datasette."""
    db.executescript(
        """
        CREATE VIEW edited_reviews AS
        SELECT r.site, r.review_id, r.subject_title, r.author_name, r.version_count,
               v.id AS version_id, v.rating, v.first_seen_at, v.last_seen_at,
               length(v.text) AS text_length, v.text
        FROM reviews r JOIN review_versions v USING (site, review_id)
        WHERE r.version_count > 1;
        """
    )


@migrations(name="0003_crawl_feed_counts")
def m0003_crawl_feed_counts(db: Database) -> None:
    """`crawls.feeds`: per-feed counts of a run as JSON ({"film:1": {"pages": 3, "reviews": 60,
    "blocks": 60, ...}}), the memory the "feed went empty" alarm compares the next run with."""
    db.execute("ALTER TABLE crawls ADD COLUMN feeds TEXT")


@migrations(name="0004_review_observed_hash")
def m0004_review_observed_hash(db: Database) -> None:
    """`reviews.observed_hash`: a digest of the last observation as the page gave it, so the store
    can tell a review seen again exactly as before with one query per batch."""
    db.execute("ALTER TABLE reviews ADD COLUMN observed_hash TEXT")


@migrations(name="0005_current_version_text_once")
def m0005_current_version_text_once(db: Database) -> None:
    """The current version's text is stored once, in `reviews.text`: its `review_versions.text`
    is NULL (earlier versions keep theirs). Saves a copy of every review's text."""
    notnull = {c[1]: c[3] for c in db.execute("PRAGMA table_info(review_versions)").fetchall()}
    if notnull.get("text"):
        db.execute("DROP VIEW IF EXISTS edited_reviews")
        db.table("review_versions").transform(not_null={"text": False})
    db.execute(
        "UPDATE review_versions SET text = NULL WHERE EXISTS (SELECT 1 FROM reviews r "
        "WHERE r.site = review_versions.site AND r.review_id = review_versions.review_id "
        "AND r.content_hash = review_versions.content_hash)"
    )
    db.executescript(
        """
        DROP VIEW IF EXISTS edited_reviews;
        CREATE VIEW edited_reviews AS
        SELECT r.site, r.review_id, r.subject_title, r.author_name, r.version_count,
               v.id AS version_id, v.rating, v.first_seen_at, v.last_seen_at,
               v.content_hash = r.content_hash AS is_current,
               length(coalesce(v.text, r.text)) AS text_length, coalesce(v.text, r.text) AS text
        FROM reviews r JOIN review_versions v USING (site, review_id)
        WHERE r.version_count > 1;
        """
    )


FTS_HASH_SIZE = 16 * 1024 * 1024
"""Bytes of tokens FTS5 holds in memory before writing an index segment (default 1 MB): a batch
of 500 reviews (~3 MB of text) then makes one segment instead of several, so fewer merges."""

FTS_AUTOMERGE = 16
"""Segments of one level FTS5 lets pile up before merging them (default 4): each token's
positions are rewritten fewer times as the index grows, for a few more segments to read."""


@migrations(name="0006_fts_write_settings")
def m0006_fts_write_settings(db: Database) -> None:
    """FTS5 settings (kept in `reviews_fts_config`) that make a batch of reviews cheaper to index:
    together with 8 KB pages 1.4x faster stores in bench_archive. Searches find the same rows."""
    for name, value in (("hashsize", FTS_HASH_SIZE), ("automerge", FTS_AUTOMERGE)):
        db.execute("INSERT INTO reviews_fts (reviews_fts, rank) VALUES (?, ?)", [name, value])


@migrations(name="0007_text_completions")
def m0007_text_completions(db: Database) -> None:
    """Whole texts of reviews a list page shows cut (Letterboxd's "more"), read from their own
    pages: kept here until the cut review they complete is archived (or kept for good when it
    arrives first), then applied to it in place, never as an edit."""
    db.execute(
        """
        CREATE TABLE text_completions (
            site TEXT NOT NULL,
            review_id TEXT NOT NULL,
            text TEXT NOT NULL,
            observed_at TEXT NOT NULL,
            page_id INTEGER REFERENCES pages(id),
            PRIMARY KEY (site, review_id)
        )
        """
    )


@migrations(name="0007b_review_url_and_date_may_be_unknown")
def m0007b_review_url_and_date_may_be_unknown(db: Database) -> None:
    """A review may have no address of its own (Goodreads' restricted reviewers) and no
    readable date (schema.org data that says "last spring"): `reviews.url` and
    `reviews.published_at` may be NULL. Dropping a NOT NULL changes nothing stored, so it is
    done as SQLite's documentation allows for it: the table's definition is edited in place
    (no copy, rowids, indexes, views and the full-text index untouched) and the schema version
    bumped so every connection reads it again."""
    conn = db.conn
    table_sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'reviews'"
    ).fetchone()[0]
    new_sql = re.sub(r"\burl TEXT NOT NULL", "url TEXT", table_sql, count=1)
    new_sql = re.sub(r"\bpublished_at TEXT NOT NULL", "published_at TEXT", new_sql, count=1)
    if new_sql == table_sql:
        return
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'reviews'", (new_sql,)
    )
    conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
    conn.execute("PRAGMA writable_schema = OFF")


STORE_MARK = "reviewhoard_store"
"""The name under which the store's connection attaches an empty in-memory database: how the
full-text triggers tell the store (which keeps `reviews_fts` in step itself, a batch at a time)
from any other program writing `reviews`."""

_NOT_THE_STORE = f"NOT EXISTS (SELECT 1 FROM pragma_database_list WHERE name = '{STORE_MARK}')"

FTS_TRIGGERS: tuple[str, ...] = (
    f"""CREATE TRIGGER reviews_fts_after_insert AFTER INSERT ON reviews
WHEN {_NOT_THE_STORE}
BEGIN
    INSERT INTO reviews_fts (rowid, text, subject_title, author_name)
    VALUES (new.rowid, new.text, new.subject_title, new.author_name);
END""",
    f"""CREATE TRIGGER reviews_fts_after_delete AFTER DELETE ON reviews
WHEN {_NOT_THE_STORE}
BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, text, subject_title, author_name)
    VALUES ('delete', old.rowid, old.text, old.subject_title, old.author_name);
END""",
    f"""CREATE TRIGGER reviews_fts_after_update AFTER UPDATE OF text, subject_title, author_name
ON reviews
WHEN (old.text IS NOT new.text OR old.subject_title IS NOT new.subject_title
    OR old.author_name IS NOT new.author_name) AND {_NOT_THE_STORE}
BEGIN
    INSERT INTO reviews_fts (reviews_fts, rowid, text, subject_title, author_name)
    VALUES ('delete', old.rowid, old.text, old.subject_title, old.author_name);
    INSERT INTO reviews_fts (rowid, text, subject_title, author_name)
    VALUES (new.rowid, new.text, new.subject_title, new.author_name);
END""",
)
"""What keeps `reviews_fts` in step with `reviews` when another program writes it (sqlite-utils,
a SQL shell, Datasette with write plugins). The store writes the index itself, by rowid ranges
a batch at a time (the triggers doing it row by row made storing 1.45x slower in bench_archive,
FTS5 flushing its buffer at each statement), so they skip its connection (`STORE_MARK`). An
update leaving the three indexed columns as they were touches no index row."""


@migrations(name="0008_search_index_for_every_tool")
def m0008_search_index_for_every_tool(db: Database) -> None:
    """`reviews_fts` made again with `content="reviews"`, the spelling Datasette and sqlite-utils
    look for (so `datasette archive.db` shows a search box and `sqlite-utils search archive.db
    reviews WORD` works), and kept in step by triggers (`FTS_TRIGGERS`) when a program other
    than the store writes `reviews`. Rebuilt from `reviews` once, with the settings of 0006: it
    finds the same rows as before."""
    db.execute("DROP TABLE IF EXISTS reviews_fts")
    db.execute(
        "CREATE VIRTUAL TABLE reviews_fts USING fts5(text, subject_title, author_name, "
        'content="reviews", content_rowid="rowid", tokenize=\'unicode61 remove_diacritics 2\')'
    )
    for name, value in (("hashsize", FTS_HASH_SIZE), ("automerge", FTS_AUTOMERGE)):
        db.execute("INSERT INTO reviews_fts (reviews_fts, rank) VALUES (?, ?)", [name, value])
    db.execute("INSERT INTO reviews_fts (reviews_fts) VALUES ('rebuild')")
    for trigger in FTS_TRIGGERS:
        db.execute(trigger)


_VERSION_TEXT = "coalesce(v.text, CASE WHEN v.content_hash = r.content_hash THEN r.text END)"


@migrations(name="0009_review_history_view")
def m0009_review_history_view(db: Database) -> None:
    """`review_history`: every version of every review with its own text (the current one's is
    `reviews.text`, stored once), numbered in the order they were first seen, beside the text of
    the version before it: what changed, in SQL or any tool."""
    db.execute(
        f"""
        CREATE VIEW review_history AS
        SELECT v.site, v.review_id, r.subject_type, r.subject_id, r.subject_title,
               r.author_name, row_number() OVER w AS version, r.version_count AS versions,
               v.content_hash = r.content_hash AS is_current, v.rating,
               v.first_seen_at, v.last_seen_at, {_VERSION_TEXT} AS text,
               lag({_VERSION_TEXT}) OVER w AS previous_text,
               v.page_id, v.crawl_id, v.id AS version_id
        FROM review_versions v
        JOIN reviews r ON r.site = v.site AND r.review_id = v.review_id
        WINDOW w AS (PARTITION BY v.site, v.review_id ORDER BY v.first_seen_at, v.id)
        """
    )


@migrations(name="0010_extra_history")
def m0010_extra_history(db: Database) -> None:
    """`extra_history`: every value a review's tracked extra field has had (`EXTRA_HISTORY` in
    archive/store.py: the company's or developer's reply), with when it was first seen: a reply
    that appears or changes later is history, like an edit, not an overwrite."""
    db.execute(
        """
        CREATE TABLE extra_history (
            id INTEGER PRIMARY KEY,
            site TEXT NOT NULL,
            review_id TEXT NOT NULL,
            field TEXT NOT NULL,
            value TEXT,
            observed_at TEXT NOT NULL,
            page_id INTEGER REFERENCES pages(id),
            crawl_id INTEGER,
            FOREIGN KEY (site, review_id) REFERENCES reviews(site, review_id)
        )
        """
    )
    db.execute("CREATE INDEX idx_extra_history_review ON extra_history(site, review_id, field)")


def apply_migrations(db: Database) -> list[str]:
    """Bring `db` up to the newest layout; returns the names of the migrations just applied.

    An archive a newer reviewhoard has migrated (a migration this one does not know) is refused
    with one line and never written. Two programs opening an archive with migrations pending
    take turns (an flock beside the file): the second finds them applied."""
    path = _file_of(db)
    known = {m.name for m in migrations._migrations}
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if unknown:
        raise ArchiveUnreadable(
            f"{path or 'the archive'} was written by a newer reviewhoard (migration "
            f"{unknown[-1]} is unknown to this one): upgrade reviewhoard to use it; nothing "
            "was written"
        )
    if not migrations.pending(db):
        return []
    with _migration_turn(path):
        pending = [m.name for m in migrations.pending(db)]
        if pending:
            migrations.apply(db)
    return pending


def _file_of(db: Database) -> str | None:
    """The file the connection's main database is (None in memory)."""
    for _seq, name, file in db.conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(file) or None
    return None


@contextmanager
def _migration_turn(path: str | None) -> Iterator[None]:
    """Hold `<archive>.migrate` (an flock) while migrating, so concurrent openers wait their
    turn instead of failing with "database is locked"."""
    if path is None:
        yield
        return
    with open(f"{path}.migrate", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
