"""Writing to the archive: raw pages, reviews with their versions, crawls, rejects.

`Archive` is the one writer. Every write goes through `Archive.write()`, which applies a batch of
pages, reviews and rejects in one `BEGIN IMMEDIATE` transaction: a batch is stored whole or not at
all, so a process killed at any moment leaves the file consistent.

Rules (also stated in the Datasette column descriptions):
- a review's identity is (site, review_id); a different (text, rating) is a new `review_versions`
  row, anything else updates `reviews` in place; the current version's text is stored once, in
  `reviews.text` (its version row has NULL there), earlier versions keep their own text;
- a field the new observation does not carry (None, or an empty tag list) keeps its known value:
  the new MAL layout has no sub-scores or helpful votes, the old one no reactions or tags;
- reaction and helpful counts that differ from the stored ones add a `reaction_counts` row;
- an author name that differs for the same review is a rename: the author keeps its id and the
  old name goes to `former_names`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from reviewhoard.archive.checkpointer import BACKSTOP, Checkpointer
from reviewhoard.archive.connection import WAL_CHECKPOINT_BYTES, connect, open_database
from reviewhoard.archive.errors import unreadable
from reviewhoard.archive.hashing import body_sha256, content_hash, hash_text_rating, review_digests
from reviewhoard.archive.packing import compress_body
from reviewhoard.items import RawPage, Review, utc_now
from reviewhoard.parsers.page import TextCompletion

ReviewOutcome = Literal["new", "updated", "unchanged"]


@dataclass(slots=True)
class Reject:
    """An item that failed validation, kept with the reason and the page it came from."""

    reason: str
    item: dict[str, Any]
    page_url: str | None = None


@dataclass(slots=True)
class BatchResult:
    """What one `Archive.write()` did."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    pages_stored: int = 0
    pages_seen: int = 0
    completed: int = 0
    """Cut texts completed in place by their whole text (not edits)."""
    outcomes: list[tuple[str, str, ReviewOutcome]] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        """Fold another batch's counts into this one."""
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        self.pages_stored += other.pages_stored
        self.pages_seen += other.pages_seen
        self.completed += other.completed
        self.outcomes.extend(other.outcomes)


_REVIEW_COLUMNS: tuple[str, ...] = (
    "url",
    "subject_type",
    "subject_id",
    "subject_title",
    "author_id",
    "author_name",
    "published_at",
    "rating",
    "rating_scale",
    "recommendation",
    "tags",
    "is_spoiler",
    "is_preliminary",
    "progress_seen",
    "progress_total",
    "progress_unit",
    "reactions",
    "helpful_count",
    "sub_scores",
    "extra",
    "text",
    "content_hash",
    "observed_hash",
)
"""The columns of `reviews` an observation sets (besides keys, counters and seen times)."""

_SELECT_CURRENT = (
    "SELECT rowid, version_count, gone_at, last_seen_at, "
    + ", ".join(_REVIEW_COLUMNS)
    + " FROM reviews WHERE site = ? AND review_id = ?"
)
_INSERT_REVIEW = (
    "INSERT INTO reviews (rowid, site, review_id, "
    + ", ".join(_REVIEW_COLUMNS)
    + ", version_count, first_seen_at, last_seen_at, page_id) VALUES ("
    + ", ".join("?" * (len(_REVIEW_COLUMNS) + 7))
    + ")"
)
_ROWS_PER_INSERT = 100
"""Rows per multi-row INSERT of a batch's new reviews (reviews: 3,000 parameters)."""
_INSERT_VERSION = (
    "INSERT INTO review_versions (site, review_id, content_hash, rating, text, "
    "first_seen_at, last_seen_at, page_id, crawl_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_NEW_ROWS = " FROM reviews WHERE rowid BETWEEN ? AND ?"
"""The rows `_insert_new` just inserted: each new review's first version (its text is in
`reviews` only), reaction counts (when it has some) and FTS row are copied from them, in rowid
order (the batch's)."""
_COPY_VERSIONS = (
    "INSERT INTO review_versions (site, review_id, content_hash, rating, text, "
    "first_seen_at, last_seen_at, page_id, crawl_id) SELECT site, review_id, content_hash, "
    "rating, NULL, first_seen_at, last_seen_at, page_id, ?" + _NEW_ROWS + " ORDER BY rowid"
)
_COPY_REACTIONS = (
    "INSERT INTO reaction_counts (site, review_id, observed_at, reactions, helpful_count, "
    "page_id, crawl_id) SELECT site, review_id, first_seen_at, reactions, helpful_count, "
    "page_id, ?"
    + _NEW_ROWS
    + " AND NOT (reactions IS NULL AND helpful_count IS NULL) ORDER BY rowid"
)
_COPY_FTS = (
    "INSERT INTO reviews_fts (rowid, text, subject_title, author_name) "
    "SELECT rowid, text, subject_title, author_name" + _NEW_ROWS + " ORDER BY rowid"
)
_INSERT_REACTIONS = (
    "INSERT INTO reaction_counts (site, review_id, observed_at, reactions, helpful_count, "
    "page_id, crawl_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_TAG = (
    "INSERT OR IGNORE INTO review_tags (site, review_id, tag_id, position) VALUES (?, ?, ?, ?)"
)
_UPDATE_REVIEW = (
    "UPDATE reviews SET "
    + ", ".join(f"{c} = ?" for c in _REVIEW_COLUMNS)
    + ", version_count = ?, last_seen_at = max(last_seen_at, ?), gone_at = NULL, page_id = ? "
    "WHERE rowid = ?"
)
_INSERT_EXTRA_HISTORY = (
    "INSERT INTO extra_history (site, review_id, field, value, observed_at, page_id, crawl_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_FTS_INSERT = (
    "INSERT INTO reviews_fts (rowid, text, subject_title, author_name) VALUES (?, ?, ?, ?)"
)
_FTS_DELETE = (
    "INSERT INTO reviews_fts (reviews_fts, rowid, text, subject_title, author_name) "
    "VALUES ('delete', ?, ?, ?, ?)"
)
CRAWL_COUNTS: tuple[str, ...] = (
    "reviews_new",
    "reviews_updated",
    "reviews_unchanged",
    "reviews_rejected",
    "pages_stored",
    "requests",
    "errors",
)
"""The count columns of `crawls`."""

_IDX = {c: i for i, c in enumerate(_REVIEW_COLUMNS)}
_TITLE, _RATING, _HASH = _IDX["subject_title"], _IDX["rating"], _IDX["content_hash"]
_REACTIONS, _HELPFUL = _IDX["reactions"], _IDX["helpful_count"]

KEEP_KNOWN: tuple[str, ...] = (
    "subject_title",
    "rating_scale",
    "recommendation",
    "tags",
    "is_spoiler",
    "reactions",
    "helpful_count",
    "sub_scores",
)
"""Columns whose known value stays when a new observation does not carry one (None, or no tags:
the layout lacks the field). Text and rating never do: they are what a version is."""
EXTRA_HISTORY: tuple[str, ...] = ("reply",)
"""Extra fields (`Review.extra`) whose every value is kept in `extra_history`, first seen when:
the company's or developer's reply to a review, which can appear or change after it. Other
extras are kept current in `reviews.extra`."""

_FILLABLE: tuple[str, ...] = (
    *(n for n in KEEP_KNOWN if n not in ("subject_title", "tags")),
    "progress_seen",
    "progress_total",
    "progress_unit",
)
"""What an older observation may fill in when the current state lacks it (not the title, which
the full-text index holds; tags apart, since no tags is stored as [])."""


def iso_utc(moment: str) -> str:
    """An ISO 8601 time as the archive writes it (UTC, microseconds, Z), so times sort as text."""
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_JSON = json.JSONEncoder(ensure_ascii=False).encode
_JSON_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
"""`json.dumps(value, ensure_ascii=False[, sort_keys=True])`, the same text without building an
encoder per call (json.dumps does for any non-default option): 4 of them per review."""


def _dumps(value: Any) -> str | None:
    return None if value is None else _JSON(value)


def _number(value: float | int | None) -> float | int | None:
    """8.0 as 8 (NUMERIC columns keep whole scores as integers), 7.5 as 7.5."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _same_observation(state: tuple[Any, ...] | None, digests: tuple[str, str] | None) -> bool:
    """True when the archived state (from `_known_states`) is of a review not gone whose
    observation hash equals this observation's: seen again exactly as before."""
    return state is not None and digests is not None and state[2] is None and state[0] == digests[1]


def _observed_row(
    review: Review, author_id: int, old: tuple[Any, ...] | None, digests: tuple[str, str]
) -> list[Any]:
    """The `reviews` columns for this observation, keeping known values it does not carry;
    `digests` are its (content hash, observation hash)."""
    progress = review.progress
    row: list[Any] = [
        review.url,
        review.subject.type,
        review.subject.id,
        review.subject.title,
        author_id,
        review.author.name,
        review.published_at,
        _number(review.rating),
        _number(review.rating_scale),
        review.recommendation,
        _JSON(review.tags) if review.tags else None,
        None if review.is_spoiler is None else int(review.is_spoiler),
        int(review.is_preliminary),
        progress.seen if progress else None,
        progress.total if progress else None,
        progress.unit if progress else None,
        _dumps(review.reactions),
        review.helpful_count,
        _dumps(review.sub_scores),
        None,
        review.text,
        *digests,
    ]
    extra = dict(review.extra)
    if old is not None:
        for name in KEEP_KNOWN:
            if row[_IDX[name]] is None:
                row[_IDX[name]] = old[_IDX[name]]
        if progress is None:
            for name in ("progress_seen", "progress_total", "progress_unit"):
                row[_IDX[name]] = old[_IDX[name]]
        extra = {**json.loads(old[_IDX["extra"]] or "{}"), **extra}
    if row[_IDX["tags"]] is None:
        row[_IDX["tags"]] = "[]"
    row[_IDX["extra"]] = _JSON_SORTED(extra)
    return row


class Archive:
    """The archive file, opened for writing: migrated, WAL, busy timeout, foreign keys on.

    Use as a context manager. One process writes at a time: every write is a `BEGIN IMMEDIATE`
    transaction, so a second writer waits (up to the busy timeout) instead of interleaving.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.db = open_database(path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise unreadable(path, exc) from None
        self.conn: sqlite3.Connection = self.db.conn
        self._authors: dict[tuple[str, str], int] = {}
        self._subjects: dict[tuple[str, str, str], tuple[str | None, str | None, str]] = {}
        """(site, type, id) -> (title, address, when they were last seen) of subjects met."""
        self._tags: dict[tuple[str, str], int] = {}
        self._looked_up: dict[tuple[str, str], tuple[int, str | None] | None] = {}
        """(id, url) of the batch's authors not in `_authors`, None for those not archived: read
        in one query per site and 400 names at the start of `write`, used once each."""
        self._max_variables = self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        self._completions_used: list[tuple[str, str]] = []
        """Waiting whole texts the batch's cut reviews were completed with: dropped once
        written."""
        # Checkpoints on their own thread; SQLite's own, in the commit, only as a backstop.
        page_size = self.conn.execute("PRAGMA page_size").fetchone()[0]
        self.conn.execute(
            f"PRAGMA wal_autocheckpoint = {BACKSTOP * WAL_CHECKPOINT_BYTES // page_size}"
        )
        self._checkpointer = Checkpointer(self.path, WAL_CHECKPOINT_BYTES)
        self._checkpointer.start()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a transaction left open is rolled back by SQLite), after the
        checkpoint thread, so this close is the last and folds the log into the database."""
        self._checkpointer.stop()
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole on success, rolled back whole on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            # Caches may hold ids written by the rolled-back transaction.
            self._authors.clear()
            self._looked_up.clear()
            self._subjects.clear()
            self._tags.clear()
            raise
        self.conn.execute("COMMIT")
        self._checkpointer.poke()

    # -- crawls -----------------------------------------------------------------------------

    def start_crawl(self, command: str, args: dict[str, Any] | str | None = None) -> int:
        """Open a `crawls` row (outcome `running`) and return its id."""
        text = args if isinstance(args, str) or args is None else json.dumps(args, sort_keys=True)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO crawls (started_at, command, args) VALUES (?, ?, ?)",
                (utc_now(), command, text),
            )
        return int(cur.lastrowid or 0)

    def finish_crawl(
        self,
        crawl_id: int,
        outcome: str,
        *,
        reviews_new: int | None = None,
        reviews_updated: int | None = None,
        reviews_unchanged: int | None = None,
        reviews_rejected: int | None = None,
        pages_stored: int | None = None,
        requests: int | None = None,
        errors: int | None = None,
        alarms: list[Any] | None = None,
        finish_reason: str | None = None,
    ) -> None:
        """Close a `crawls` row: outcome (`ok`, `partial`, `alarm`, `interrupted`, `failed`...),
        alarms (JSON) and Scrapy's finish reason. A count left None keeps the value the store
        pipeline recorded at close."""
        counts = {
            "reviews_new": reviews_new,
            "reviews_updated": reviews_updated,
            "reviews_unchanged": reviews_unchanged,
            "reviews_rejected": reviews_rejected,
            "pages_stored": pages_stored,
            "requests": requests,
            "errors": errors,
        }
        with self.transaction() as conn:
            self._set_counts(crawl_id, counts)
            conn.execute(
                "UPDATE crawls SET finished_at = ?, outcome = ?, alarms = ?, finish_reason = ? "
                "WHERE id = ?",
                (
                    utc_now(),
                    outcome,
                    None if alarms is None else json.dumps(alarms, ensure_ascii=False),
                    finish_reason,
                    crawl_id,
                ),
            )

    def record_crawl_counts(self, crawl_id: int, **counts: int | None) -> None:
        """Set a running crawl's counts (`reviews_new=...`, `requests=...`); None keeps a count."""
        with self.transaction():
            self._set_counts(crawl_id, counts)

    def _set_counts(self, crawl_id: int, counts: dict[str, int | None]) -> None:
        unknown = set(counts) - set(CRAWL_COUNTS)
        if unknown:
            raise TypeError(f"unknown crawl counts {sorted(unknown)}")
        cur = self.conn.execute(
            "UPDATE crawls SET "
            + ", ".join(f"{c} = coalesce(?, {c})" for c in CRAWL_COUNTS)
            + " WHERE id = ?",
            (*(counts.get(c) for c in CRAWL_COUNTS), crawl_id),
        )
        if cur.rowcount != 1:
            raise KeyError(f"no crawl {crawl_id} in {self.path}")

    def record_crawl_feeds(self, crawl_id: int, feeds: dict[str, Any]) -> None:
        """Keep a crawl's per-feed counts (`crawls.feeds`, JSON), which later runs' alarms
        compare with (see `queries.feed_history`)."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE crawls SET feeds = ? WHERE id = ?",
                (json.dumps(feeds, sort_keys=True), crawl_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no crawl {crawl_id} in {self.path}")

    def close_abandoned_crawls(
        self,
        outcome: str = "killed",
        commands: tuple[str, ...] = (
            "hoard update",
            "hoard crawl",
            "hoard import",
            "hoard reparse",
        ),
    ) -> list[int]:
        """Close the crawl rows of `commands` (those that run under the archive's run lock) still
        `running`: call only while holding that lock, so no such run is alive to own them and
        their process died (e.g. by SIGKILL). Rows of other commands (`hoard import`, which
        takes no lock) are left alone. Returns the ids closed."""
        with self.transaction() as conn:
            ids = [
                r[0]
                for r in conn.execute("SELECT id, command FROM crawls WHERE outcome = 'running'")
                if any(r[1] == c or r[1].startswith(c + " ") for c in commands)
            ]
            conn.executemany(
                "UPDATE crawls SET outcome = ?, finished_at = ? WHERE id = ?",
                [(outcome, utc_now(), i) for i in ids],
            )
        return ids

    # -- batches ----------------------------------------------------------------------------

    def write(
        self,
        entries: Iterable[RawPage | Review | Reject | TextCompletion],
        crawl_id: int | None = None,
        *,
        reread: bool = False,
    ) -> BatchResult:
        """Store pages, reviews, rejects and text completions in order, in one transaction.

        A review a list page showed cut (`extra["text_truncated"]`) whose whole text is known
        (archived, or a completion read before it) is stored whole; a `TextCompletion` completes
        the cut text archived for its review in place (the same version, not an edit), or waits
        in `text_completions` for it.

        A review is linked to the page named by its `extra["source_url"]` when that page is in
        the batch, else to the last page before it, and was seen when that page was fetched.
        `reread` (for `hoard reparse`): the pages are already stored and are being read again by
        a newer parser, so a different text read from the same page corrects the version read
        from it before instead of adding one.
        """
        result = BatchResult()
        now = utc_now()
        pages: dict[str, tuple[int, str]] = {}
        page: tuple[int | None, str] = (None, now)
        subjects_seen: dict[tuple[str, str, str], str] = {}
        subjects_first: dict[tuple[str, str, str], str] = {}
        authors_seen: dict[int, str] = {}
        authors_first: dict[int, str] = {}
        batch = self._completed(list(entries))
        all_digests = [review_digests(e) if isinstance(e, Review) else None for e in batch]
        with self.transaction():
            known = self._known_states(batch)
            # Authors are looked up for the reviews that may need them: not for those whose
            # archived observation hash says they are seen again exactly as before.
            self._look_up_authors(
                entry
                for entry, digests in zip(batch, all_digests, strict=True)
                if isinstance(entry, Review)
                and not _same_observation(known.get((entry.site, entry.review_id)), digests)
            )
            touched: set[tuple[str, str]] = set()
            again_reviews: list[tuple[str, int | None, int]] = []
            again_versions: list[tuple[str, str, str, str]] = []
            fresh: list[tuple[Review, list[Any], int | None, str]] = []
            for entry, digests in zip(batch, all_digests, strict=True):
                if isinstance(entry, RawPage):
                    page_id, stored = self._store_page(entry, crawl_id, reread=reread)
                    page = (page_id, iso_utc(entry.fetched_at))
                    pages[entry.url] = pages[entry.final_url] = page
                    result.pages_seen += 1
                    result.pages_stored += stored
                elif isinstance(entry, Review):
                    source = entry.extra.get("source_url")
                    pid, seen = pages.get(source, page) if isinstance(source, str) else page
                    key = (entry.site, entry.review_id)
                    state = known.get(key)
                    assert digests is not None
                    outcome: ReviewOutcome
                    if (
                        state is not None
                        and key not in touched
                        and seen >= state[1]
                        and _same_observation(state, digests)
                    ):
                        # Seen again exactly as before: only the seen times move (batched).
                        # Read again (`hoard reparse`, the parser unchanged for this review):
                        # the same, and its subject and author recorded as `_store_review`
                        # records them.
                        outcome, author_id = "unchanged", state[4]
                        if reread:
                            self._subject(entry, seen)
                            author_id = self._author_id(
                                entry.site, entry.author.name, entry.author.url, seen
                            )
                        again_reviews.append((seen, pid, state[5]))
                        again_versions.append((seen, *key, state[3]))
                    elif not reread and state is None and key not in touched:
                        # Not archived before this batch (and not earlier in it): new, no lookup;
                        # its rows go in with the batch's other new reviews (`_insert_new`).
                        touched.add(key)
                        self._subject(entry, seen)
                        author_id = self._author_id(
                            entry.site, entry.author.name, entry.author.url, seen
                        )
                        fresh.append(
                            (entry, _observed_row(entry, author_id, None, digests), pid, seen)
                        )
                        outcome = "new"
                    else:
                        # Stored one by one, after the new reviews before it (it may be one).
                        self._insert_new(fresh, crawl_id)
                        touched.add(key)
                        outcome, author_id = self._store_review(
                            entry, digests, pid, crawl_id, seen, reread=reread
                        )
                    subject = (entry.site, entry.subject.type, entry.subject.id)
                    subjects_seen[subject] = max(seen, subjects_seen.get(subject, seen))
                    subjects_first[subject] = min(seen, subjects_first.get(subject, seen))
                    authors_seen[author_id] = max(seen, authors_seen.get(author_id, seen))
                    authors_first[author_id] = min(seen, authors_first.get(author_id, seen))
                    setattr(result, outcome, getattr(result, outcome) + 1)
                    result.outcomes.append((entry.site, entry.review_id, outcome))
                elif isinstance(entry, TextCompletion):
                    self._insert_new(fresh, crawl_id)
                    result.completed += self._complete(entry, page[0], page[1])
                else:
                    pid = pages.get(entry.page_url or "", page)[0]
                    self._store_reject(entry, pid, crawl_id)
                    result.rejected += 1
            self._insert_new(fresh, crawl_id)
            self.conn.executemany(
                "DELETE FROM text_completions WHERE site = ? AND review_id = ?",
                self._completions_used,
            )
            self._completions_used.clear()
            self._looked_up.clear()
            self.conn.executemany(
                "UPDATE reviews SET last_seen_at = max(last_seen_at, ?), "
                "page_id = coalesce(?, page_id) WHERE rowid = ?",
                again_reviews,
            )
            self.conn.executemany(
                "UPDATE review_versions SET last_seen_at = max(last_seen_at, ?) "
                "WHERE site = ? AND review_id = ? AND content_hash = ?",
                again_versions,
            )
            if not reread:
                self.conn.executemany(
                    "UPDATE subjects SET last_seen_at = max(last_seen_at, ?), "
                    "first_seen_at = min(first_seen_at, ?) "
                    "WHERE site = ? AND type = ? AND subject_id = ?",
                    [(last, subjects_first[key], *key) for key, last in subjects_seen.items()],
                )
                self.conn.executemany(
                    "UPDATE authors SET last_seen_at = max(last_seen_at, ?), "
                    "first_seen_at = min(first_seen_at, ?) WHERE id = ?",
                    [(last, authors_first[a], a) for a, last in authors_seen.items()],
                )
        return result

    def _insert_new(
        self, fresh: list[tuple[Review, list[Any], int | None, str]], crawl_id: int | None
    ) -> None:
        """Insert reviews not archived before, as (review, observed row, page id, seen time), in
        order, with their first version, reaction counts, tags and FTS row: a few statements for
        all of them. Their rowids are the ones SQLite would give one by one (max + 1), set here
        so that versions, reaction counts and FTS rows are then copied from the new `reviews`
        rows by rowid range, in one statement each. Empties `fresh`."""
        if not fresh:
            return
        top = int(self.conn.execute("SELECT coalesce(max(rowid), 0) FROM reviews").fetchone()[0])
        reviews: list[tuple[Any, ...]] = []
        tags: list[tuple[str, str, int, int]] = []
        for rowid, (review, row, page_id, seen) in enumerate(fresh, top + 1):
            site, rid = review.site, review.review_id
            reviews.append((rowid, site, rid, *row, 1, seen, seen, page_id))
            if review.tags:
                tags.extend(
                    (site, rid, self._tag_id(site, slug), i) for i, slug in enumerate(review.tags)
                )
        span = (top + 1, top + len(fresh))
        history = [
            (review.site, review.review_id, name, _dumps(review.extra[name]), seen, page_id,
             crawl_id)
            for review, _row, page_id, seen in fresh
            for name in EXTRA_HISTORY
            if review.extra.get(name) is not None
        ]  # fmt: skip
        fresh.clear()
        self._insert_rows(_INSERT_REVIEW, reviews)
        self.conn.execute(_COPY_VERSIONS, (crawl_id, *span))
        self.conn.execute(_COPY_REACTIONS, (crawl_id, *span))
        self._insert_rows(_INSERT_TAG, tags)
        self.conn.execute(_COPY_FTS, span)
        self._insert_rows(_INSERT_EXTRA_HISTORY, history)

    def _insert_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """`rows` inserted in order by `sql` (a one-row `INSERT ... VALUES (?, ...)`), up to
        `_ROWS_PER_INSERT` per statement: one SQLite step, and one release of the GIL, for many
        rows instead of one each, as `executemany` does (a writer thread waits for the GIL
        again after each, while the crawl parses on the main thread)."""
        if not rows:
            return
        head, _, marks = sql.rpartition(" VALUES ")
        per = max(1, min(_ROWS_PER_INSERT, self._max_variables // len(rows[0])))
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            self.conn.execute(
                f"{head} VALUES {', '.join([marks] * len(chunk))}",
                [value for row in chunk for value in row],
            )

    def _look_up_authors(self, reviews: Iterable[Review]) -> None:
        self._looked_up.clear()
        by_site: dict[str, dict[str, None]] = {}
        for entry in reviews:
            if (entry.site, entry.author.name) not in self._authors:
                by_site.setdefault(entry.site, {})[entry.author.name] = None
        for site, names in by_site.items():
            unique = list(names)
            for start in range(0, len(unique), 400):
                chunk = unique[start : start + 400]
                self._looked_up.update(((site, name), None) for name in chunk)
                rows = self.conn.execute(
                    "SELECT name, id, url FROM authors WHERE site = ? AND name IN ("
                    + ", ".join("?" * len(chunk))
                    + ")",
                    (site, *chunk),
                )
                for name, author_id, url in rows:
                    self._looked_up[(site, name)] = (author_id, url)

    def _completed(self, batch: list[Any]) -> list[Any]:
        """The batch with each cut review replaced by its whole form where the whole text is
        known (archived for it, or waiting in `text_completions`) and begins with the cut text:
        the cut review is the whole one seen again. It remembers the cut form's hash
        (`extra["cut_hash"]`), so update mode knows it when the list shows it cut again."""
        cut = [
            (i, e)
            for i, e in enumerate(batch)
            if isinstance(e, Review) and e.extra.get("text_truncated") is True
        ]
        if not cut:
            return batch
        in_batch = {(e.site, e.review_id): e.text for e in batch if isinstance(e, TextCompletion)}
        for index, review in cut:
            key = (review.site, review.review_id)
            known = self.conn.execute(
                "SELECT text FROM text_completions WHERE site = ? AND review_id = ? UNION ALL "
                "SELECT text FROM reviews WHERE site = ? AND review_id = ?",
                (*key, *key),
            ).fetchall()
            texts = [in_batch[key]] if key in in_batch else []
            texts += [t for (t,) in known]
            whole = next((t for t in texts if t != review.text and t.startswith(review.text)),
                         None)  # fmt: skip
            if whole is None:
                continue
            extra = {**review.extra, "text_truncated": False, "cut_hash": content_hash(review)}
            batch[index] = replace(review, text=whole, extra=extra)
            self._completions_used.append(key)
        return batch

    def _complete(self, completion: TextCompletion, page_id: int | None, seen: str) -> int:
        """Apply a whole text to the cut text archived for its review (1), or keep it in
        `text_completions` until that review comes (0)."""
        key = (completion.site, completion.review_id)
        row = self.conn.execute(
            "SELECT rowid, text, rating, content_hash, extra, subject_title, author_name "
            "FROM reviews WHERE site = ? AND review_id = ?",
            key,
        ).fetchone()
        extra = json.loads(row[4] or "{}") if row is not None else {}
        if row is not None and completion.text == row[1]:
            # Already whole (completed from this very text when it was stored).
            self.conn.execute("DELETE FROM text_completions WHERE site = ? AND review_id = ?", key)
            return 0
        if (
            row is None
            or extra.get("text_truncated") is not True
            or not completion.text.startswith(row[1])
        ):
            self.conn.execute(
                "INSERT OR REPLACE INTO text_completions (site, review_id, text, observed_at, "
                "page_id) VALUES (?, ?, ?, ?, ?)",
                (*key, completion.text, seen, page_id),
            )
            return 0
        rowid, cut_text, rating, cut_hash = row[0], row[1], row[2], row[3]
        whole_hash = hash_text_rating(completion.text, rating)
        extra = {**extra, "text_truncated": False, "cut_hash": cut_hash}
        self.conn.execute(
            "UPDATE reviews SET text = ?, content_hash = ?, extra = ? WHERE rowid = ?",
            (completion.text, whole_hash, _JSON_SORTED(extra), rowid),
        )
        self.conn.execute(
            "UPDATE review_versions SET content_hash = ? WHERE site = ? AND review_id = ? "
            "AND content_hash = ?",
            (whole_hash, *key, cut_hash),
        )
        self.conn.execute(_FTS_DELETE, (rowid, cut_text, row[5], row[6]))
        self.conn.execute(_FTS_INSERT, (rowid, completion.text, row[5], row[6]))
        self.conn.execute("DELETE FROM text_completions WHERE site = ? AND review_id = ?", key)
        return 1

    def _known_states(
        self, batch: list[RawPage | Review | Reject]
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        """(observed_hash, last_seen_at, gone_at, content_hash, author_id, rowid) of the batch's
        reviews already archived, in one query per site and 400 ids."""
        by_site: dict[str, list[str]] = {}
        for entry in batch:
            if isinstance(entry, Review):
                by_site.setdefault(entry.site, []).append(entry.review_id)
        out: dict[tuple[str, str], tuple[Any, ...]] = {}
        for site, ids in by_site.items():
            unique = list(dict.fromkeys(ids))
            for start in range(0, len(unique), 400):
                chunk = unique[start : start + 400]
                rows = self.conn.execute(
                    "SELECT review_id, observed_hash, last_seen_at, gone_at, content_hash, "
                    "author_id, rowid FROM reviews WHERE site = ? AND review_id IN ("
                    + ", ".join("?" * len(chunk))
                    + ")",
                    (site, *chunk),
                )
                for rid, *state in rows:
                    out[(site, rid)] = tuple(state)
        return out

    def _store_page(
        self, page: RawPage, crawl_id: int | None, *, reread: bool = False
    ) -> tuple[int, int]:
        packed = page.packed if page.packed is not None and page.packed.fits(page.body) else None
        sha = packed.sha256 if packed is not None else body_sha256(page.body)
        row = self.conn.execute("SELECT id FROM pages WHERE sha256 = ?", (sha,)).fetchone()
        if row is not None and reread:
            self.conn.execute(
                "UPDATE pages SET parser_version = ? WHERE id = ?", (page.parser_version, row[0])
            )
            return int(row[0]), 0
        if row is not None:
            self.conn.execute(
                "UPDATE pages SET fetched_at = min(fetched_at, ?), "
                "last_fetched_at = max(last_fetched_at, ?), fetch_count = fetch_count + 1 "
                "WHERE id = ?",
                (page.fetched_at, page.fetched_at, row[0]),
            )
            return int(row[0]), 0
        compression, blob = (
            (packed.compression, packed.blob) if packed is not None else compress_body(page.body)
        )
        cur = self.conn.execute(
            "INSERT INTO pages (sha256, url, final_url, status, headers, site, fetched_at, "
            "last_fetched_at, body_size, compression, body, parser_version, crawl_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sha,
                page.url,
                page.final_url,
                page.status,
                json.dumps(page.headers, ensure_ascii=False, sort_keys=True),
                page.site,
                page.fetched_at,
                page.fetched_at,
                len(page.body),
                compression,
                blob,
                page.parser_version,
                crawl_id,
            ),
        )
        return int(cur.lastrowid or 0), 1

    def _store_reject(self, reject: Reject, page_id: int | None, crawl_id: int | None) -> None:
        item = reject.item
        self.conn.execute(
            "INSERT INTO rejects (rejected_at, site, review_id, reason, page_url, page_id, "
            "crawl_id, item) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                utc_now(),
                item.get("site") if isinstance(item.get("site"), str) else None,
                str(item["review_id"]) if item.get("review_id") is not None else None,
                reject.reason,
                reject.page_url,
                page_id,
                crawl_id,
                json.dumps(item, ensure_ascii=False, default=repr),
            ),
        )

    def _subject(self, review: Review, now: str) -> None:
        """Record the review's subject, seen at `now`: its title and address are the latest
        seen. An older observation (a capture imported late, a reparse of an old page) only
        fills in what is missing; it never turns a renamed title back."""
        s = review.subject
        key = (review.site, s.type, s.id)
        known = self._subjects.get(key)
        if known is None:
            row = self.conn.execute(
                "SELECT title, url, last_seen_at FROM subjects "
                "WHERE site = ? AND type = ? AND subject_id = ?",
                key,
            ).fetchone()
            if row is None:
                self.conn.execute(
                    "INSERT INTO subjects (site, type, subject_id, title, url, first_seen_at, "
                    "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*key, s.title, s.url, now, now),
                )
                known = (s.title, s.url, now)
            else:
                known = (row[0], row[1], row[2])
        old_title, old_url, latest = known
        if now >= latest:
            title, url = s.title or old_title, s.url or old_url
        else:
            title, url = old_title or s.title, old_url or s.url
        if (title, url) != (old_title, old_url):
            self.conn.execute(
                "UPDATE subjects SET title = ?, url = ? WHERE site = ? AND type = ? "
                "AND subject_id = ?",
                (title, url, *key),
            )
        self._subjects[key] = (title, url, max(latest, now))

    def _author_id(self, site: str, name: str, url: str | None, now: str) -> int:
        key = (site, name)
        cached = self._authors.get(key)
        if cached is not None:
            return cached
        if key in self._looked_up:
            row = self._looked_up.pop(key)
        else:
            row = self.conn.execute(
                "SELECT id, url FROM authors WHERE site = ? AND name = ?", key
            ).fetchone()
        if row is None:
            cur = self.conn.execute(
                "INSERT INTO authors (site, name, url, first_seen_at, last_seen_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (site, name, url, now, now),
            )
            author_id = int(cur.lastrowid or 0)
        else:
            author_id = int(row[0])
            if url and row[1] != url:
                self.conn.execute("UPDATE authors SET url = ? WHERE id = ?", (url, author_id))
        self._authors[key] = author_id
        return author_id

    def _rename_author(self, review: Review, old_id: int, old_name: str, now: str) -> int:
        """The review's author now shows another name: keep the identity, remember the old name."""
        site, new_name = review.site, review.author.name
        self._authors.pop((site, old_name), None)
        self._looked_up.clear()  # names change: look them up again
        taken = self.conn.execute(
            "SELECT id FROM authors WHERE site = ? AND name = ?", (site, new_name)
        ).fetchone()
        target = old_id if taken is None else int(taken[0])
        former = self.conn.execute(
            "SELECT former_names FROM authors WHERE id = ?", (target,)
        ).fetchone()[0]
        names: list[str] = json.loads(former)
        if old_name not in names:
            names.append(old_name)
        names = [n for n in names if n != new_name]
        self.conn.execute(
            "UPDATE authors SET name = ?, former_names = ?, renamed_at = ?, "
            "url = coalesce(?, url) WHERE id = ?",
            (new_name, json.dumps(names, ensure_ascii=False), now, review.author.url, target),
        )
        # The author's other reviews show the new name too (and are found by it in search).
        others = self.conn.execute(
            "SELECT rowid, text, subject_title, author_name FROM reviews "
            "WHERE author_id = ? AND NOT (site = ? AND review_id = ?)",
            (old_id, site, review.review_id),
        ).fetchall()
        for rowid, text, title, name in others:
            self.conn.execute(_FTS_DELETE, (rowid, text, title, name))
            self.conn.execute(
                "UPDATE reviews SET author_name = ?, author_id = ? WHERE rowid = ?",
                (new_name, target, rowid),
            )
            self.conn.execute(_FTS_INSERT, (rowid, text, title, new_name))
        self._authors[(site, new_name)] = target
        return target

    def _store_review(
        self,
        review: Review,
        digests: tuple[str, str],
        page_id: int | None,
        crawl_id: int | None,
        seen: str,
        *,
        reread: bool = False,
    ) -> tuple[ReviewOutcome, int]:
        """Store one observation (of a review archived before, or any with `reread`)."""
        site, rid = review.site, review.review_id
        self._subject(review, seen)
        current = self.conn.execute(_SELECT_CURRENT, (site, rid)).fetchone()
        if current is None:
            author_id = self._author_id(site, review.author.name, review.author.url, seen)
            row = _observed_row(review, author_id, None, digests)
            self._insert_new([(review, row, page_id, seen)], crawl_id)
            return "new", author_id
        rowid, version_count, gone_at, last_seen = current[:4]
        old: tuple[Any, ...] = current[4:]
        old_author_id, old_name = int(old[_IDX["author_id"]]), old[_IDX["author_name"]]
        new_hash = digests[0]
        if seen < last_seen:
            return self._store_older(
                review, rowid, old_author_id, digests, page_id, crawl_id, seen, reread
            )
        renamed = review.author.name != old_name
        if renamed:
            author_id = self._rename_author(review, old_author_id, old_name, seen)
        else:
            author_id = self._author_id(site, review.author.name, review.author.url, seen)
        row = _observed_row(review, author_id, old, digests)
        old_hash = old[_IDX["content_hash"]]
        edited = new_hash != old_hash
        if edited:
            # The current version's text lives in `reviews`; keep it in its version row first.
            self.conn.execute(
                "UPDATE review_versions SET text = ? WHERE site = ? AND review_id = ? "
                "AND content_hash = ? AND text IS NULL",
                (old[_IDX["text"]], site, rid, old_hash),
            )
        if edited and reread and self._correct_version(review, new_hash, page_id):
            pass  # the same page read better: the version it gave is corrected, none is added
        elif edited:
            version_count += self._add_version(review, row, page_id, crawl_id, seen, known=True)
        else:
            self._saw_version(review, new_hash, seen)
        reactions_idx, helpful_idx = _IDX["reactions"], _IDX["helpful_count"]
        if (row[reactions_idx], row[helpful_idx]) != (old[reactions_idx], old[helpful_idx]):
            self._add_reactions(review, row, page_id, crawl_id, seen)
        self._extra_changes(review, old[_IDX["extra"]], page_id, crawl_id, seen)
        if list(old) == row and gone_at is None:
            self.conn.execute(
                "UPDATE reviews SET last_seen_at = ?, page_id = coalesce(?, page_id) "
                "WHERE rowid = ?",
                (seen, page_id, rowid),
            )
            return "unchanged", author_id
        fts_old = (old[_IDX["text"]], old[_IDX["subject_title"]], old_name)
        fts_new = (row[_IDX["text"]], row[_IDX["subject_title"]], row[_IDX["author_name"]])
        if fts_old != fts_new:
            self.conn.execute(_FTS_DELETE, (rowid, *fts_old))
            self.conn.execute(_FTS_INSERT, (rowid, *fts_new))
        self.conn.execute(_UPDATE_REVIEW, (*row, version_count, seen, page_id, rowid))
        if edited:
            # ...and the new current version's text now lives in `reviews` only.
            self.conn.execute(
                "UPDATE review_versions SET text = NULL WHERE site = ? AND review_id = ? "
                "AND content_hash = ?",
                (site, rid, new_hash),
            )
        if review.tags:
            self._set_tags(review)
        return ("updated" if edited or renamed else "unchanged"), author_id

    def _store_older(
        self,
        review: Review,
        rowid: int,
        author_id: int,
        digests: tuple[str, str],
        page_id: int | None,
        crawl_id: int | None,
        seen: str,
        reread: bool,
    ) -> tuple[ReviewOutcome, int]:
        """An observation older than the review's current state (an old capture imported late):
        it may add a version never seen, and move first-seen times back, never roll back.
        An author name it shows that the author no longer has joins `former_names`."""
        # Its current name was first seen with the review's current first sighting: as a
        # rename, that is when it happened (what the captures in time order would have said).
        first_seen = self.conn.execute(
            "SELECT first_seen_at FROM reviews WHERE rowid = ?", (rowid,)
        ).fetchone()[0]
        self.conn.execute(
            "UPDATE authors SET former_names = json_insert(former_names, '$[#]', ?), "
            "renamed_at = coalesce(renamed_at, ?) "
            "WHERE id = ? AND name != ? AND NOT EXISTS "
            "(SELECT 1 FROM json_each(former_names) WHERE value = ?)",
            (review.author.name, first_seen, author_id, review.author.name, review.author.name),
        )
        self.conn.execute(
            "UPDATE reviews SET first_seen_at = min(first_seen_at, ?) WHERE rowid = ?",
            (seen, rowid),
        )
        observed = _observed_row(review, author_id, None, digests)
        self._fill_unknown(rowid, observed)
        self._add_older_reactions(review, observed, page_id, crawl_id, seen)
        new_hash = digests[0]
        if self._saw_version(review, new_hash, seen, page_id):
            return "unchanged", author_id
        if reread and self._correct_version(review, new_hash, page_id, current=False):
            return "updated", author_id
        row = _observed_row(review, author_id, None, digests)
        self._add_version(review, row, page_id, crawl_id, seen, known=False)
        self.conn.execute(
            "UPDATE reviews SET version_count = version_count + 1 WHERE rowid = ?", (rowid,)
        )
        return "updated", author_id

    def _extra_changes(
        self,
        review: Review,
        old_extra: str | None,
        page_id: int | None,
        crawl_id: int | None,
        seen: str,
    ) -> None:
        """A tracked extra (a reply) the page shows with another value than the archive's
        current one: a row in `extra_history` (its earlier values keep theirs)."""
        if not any(name in review.extra for name in EXTRA_HISTORY):
            return
        before = json.loads(old_extra or "{}")
        rows = [
            (review.site, review.review_id, name, _dumps(review.extra[name]), seen, page_id,
             crawl_id)
            for name in EXTRA_HISTORY
            if name in review.extra and review.extra[name] != before.get(name)
        ]  # fmt: skip
        self._insert_rows(_INSERT_EXTRA_HISTORY, rows)

    def _fill_unknown(self, rowid: int, observed: list[Any]) -> None:
        """What an older observation shows that the current state does not (the old layout's
        sub-scores and helpful votes, read after the new layout): kept, as a newer observation's
        would be, so the order captures arrive in does not change the archive."""
        names = [n for n in _FILLABLE if observed[_IDX[n]] is not None]
        if not names:
            return
        self.conn.execute(
            "UPDATE reviews SET "
            + ", ".join(f"{n} = coalesce({n}, ?)" for n in names)
            + " WHERE rowid = ?",
            (*(observed[_IDX[n]] for n in names), rowid),
        )
        if observed[_IDX["tags"]] != "[]":
            self.conn.execute(
                "UPDATE reviews SET tags = ? WHERE rowid = ? AND tags = '[]'",
                (observed[_IDX["tags"]], rowid),
            )

    def _add_older_reactions(
        self,
        review: Review,
        observed: list[Any],
        page_id: int | None,
        crawl_id: int | None,
        seen: str,
    ) -> None:
        """Reaction counts seen at `seen`, earlier than the latest: a row only where the history
        changes there (the counts the row after it shows, seen earlier, move it back)."""
        counts = (observed[_REACTIONS], observed[_HELPFUL])
        if counts == (None, None):
            return
        key = (review.site, review.review_id)
        before = self.conn.execute(
            "SELECT reactions, helpful_count FROM reaction_counts WHERE site = ? AND "
            "review_id = ? AND observed_at <= ? ORDER BY observed_at DESC, id DESC LIMIT 1",
            (*key, seen),
        ).fetchone()
        if before is not None and tuple(before) == counts:
            return
        after = self.conn.execute(
            "SELECT id, reactions, helpful_count FROM reaction_counts WHERE site = ? AND "
            "review_id = ? AND observed_at > ? ORDER BY observed_at, id LIMIT 1",
            (*key, seen),
        ).fetchone()
        if after is not None and (after[1], after[2]) == counts:
            self.conn.execute(
                "UPDATE reaction_counts SET observed_at = ?, page_id = coalesce(?, page_id) "
                "WHERE id = ?",
                (seen, page_id, after[0]),
            )
            return
        self._add_reactions(review, observed, page_id, crawl_id, seen)
        # Later rows keep what they did not show, as they would have, had this come first.
        self.conn.execute(
            "UPDATE reaction_counts SET reactions = coalesce(reactions, ?), "
            "helpful_count = coalesce(helpful_count, ?) "
            "WHERE site = ? AND review_id = ? AND observed_at > ?",
            (*counts, *key, seen),
        )

    def _saw_version(
        self, review: Review, digest: str, seen: str, page_id: int | None = None
    ) -> bool:
        """Widen a known version's seen times (seen earlier than known: `page_id` is now the
        page it was first seen on); False when (text, rating) is a state not seen."""
        cur = self.conn.execute(
            "UPDATE review_versions SET "
            "page_id = CASE WHEN ? < first_seen_at THEN coalesce(?, page_id) ELSE page_id END, "
            "first_seen_at = min(first_seen_at, ?), last_seen_at = max(last_seen_at, ?) "
            "WHERE site = ? AND review_id = ? AND content_hash = ?",
            (seen, page_id, seen, seen, review.site, review.review_id, digest),
        )
        return cur.rowcount > 0

    def _correct_version(
        self, review: Review, digest: str, page_id: int | None, *, current: bool = True
    ) -> bool:
        """`hoard reparse`: the version first read from this very page was read differently by
        an older parser; correct it in place (it is not an edit). False when there is none.
        `current=False`: leave the review's current version alone (its text is in `reviews`)."""
        if page_id is None:
            return False
        cur = self.conn.execute(
            "UPDATE review_versions SET content_hash = ?, text = ?, rating = ? "
            "WHERE site = ? AND review_id = ? AND page_id = ? AND content_hash != ? "
            + ("" if current else "AND text IS NOT NULL ")
            + "AND NOT EXISTS (SELECT 1 FROM review_versions v WHERE v.site = ? "
            "AND v.review_id = ? AND v.content_hash = ?)",
            (
                digest,
                review.text,
                _number(review.rating),
                review.site,
                review.review_id,
                page_id,
                digest,
                review.site,
                review.review_id,
                digest,
            ),
        )
        return cur.rowcount > 0

    def _add_version(
        self,
        review: Review,
        row: list[Any],
        page_id: int | None,
        crawl_id: int | None,
        now: str,
        *,
        known: bool,
    ) -> int:
        """Record the (text, rating) state; returns 1 when it is a state not seen before.

        `known`: the review exists, so the state may be an earlier one coming back (A, B, A):
        then only its `last_seen_at` moves. (A new review's first version, whose text is kept in
        `reviews.text` only, is inserted by `_insert_new`.)
        """
        if known and self._saw_version(review, row[_IDX["content_hash"]], now):
            return 0
        self.conn.execute(
            _INSERT_VERSION,
            (
                review.site,
                review.review_id,
                row[_IDX["content_hash"]],
                row[_IDX["rating"]],
                review.text,
                now,
                now,
                page_id,
                crawl_id,
            ),
        )
        return 1

    def _add_reactions(
        self,
        review: Review,
        row: list[Any],
        page_id: int | None,
        crawl_id: int | None,
        now: str,
    ) -> None:
        reactions, helpful = row[_IDX["reactions"]], row[_IDX["helpful_count"]]
        if reactions is None and helpful is None:
            return
        self.conn.execute(
            _INSERT_REACTIONS,
            (review.site, review.review_id, now, reactions, helpful, page_id, crawl_id),
        )

    def _tag_id(self, site: str, slug: str) -> int:
        key = (site, slug)
        tag_id = self._tags.get(key)
        if tag_id is None:
            self.conn.execute("INSERT OR IGNORE INTO tags (site, slug) VALUES (?, ?)", key)
            tag_id = int(
                self.conn.execute(
                    "SELECT id FROM tags WHERE site = ? AND slug = ?", key
                ).fetchone()[0]
            )
            self._tags[key] = tag_id
        return tag_id

    def _set_tags(self, review: Review) -> None:
        """The review's current tags (a layout without tags leaves them as they were)."""
        if not review.tags:
            return
        site, rid = review.site, review.review_id
        self.conn.execute("DELETE FROM review_tags WHERE site = ? AND review_id = ?", (site, rid))
        self.conn.executemany(
            _INSERT_TAG,
            [(site, rid, self._tag_id(site, slug), i) for i, slug in enumerate(review.tags)],
        )

    # -- gone -------------------------------------------------------------------------------

    def mark_gone(
        self,
        site: str,
        subject_type: str,
        subject_id: str,
        seen_review_ids: Iterable[str],
        crawl_id: int | None = None,
        at: str | None = None,
    ) -> int:
        """After a full walk of a subject's reviews: set `gone_at` (`at`, default now) on its
        reviews not seen.

        Returns how many reviews were newly marked gone. A review seen again later clears its
        `gone_at` when stored. `crawl_id` is accepted for the record and the caller's logs.
        """
        seen = set(seen_review_ids)
        now = iso_utc(at) if at else utc_now()
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT review_id FROM reviews WHERE site = ? AND subject_type = ? "
                "AND subject_id = ? AND gone_at IS NULL",
                (site, subject_type, subject_id),
            ).fetchall()
            gone = [(now, site, rid) for (rid,) in rows if rid not in seen]
            conn.executemany(
                "UPDATE reviews SET gone_at = ? WHERE site = ? AND review_id = ?", gone
            )
        return len(gone)


def open_archive(path: str | Path) -> Archive:
    """Open (creating and migrating if needed) the archive at `path` for writing."""
    return Archive(path)


def read_connection(path: str | Path) -> sqlite3.Connection:
    """A read-only connection to an existing archive (raises if the file is missing)."""
    return connect(path, readonly=True)
