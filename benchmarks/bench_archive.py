"""Archive benchmark: storing 200,000 distinct reviews with versioning and FTS kept current,
beside a bare `executemany` of the same rows (every column `reviews` holds from the record) into
a plain table, measured in the same run, before and after the store (the faster is the baseline).

The reviews are the MAL fixtures' expected records, renumbered (review id, subject, author) so
every one is distinct. Figures: reviews/s of the archive's store vs the bare insert, the same
reviews stored again unchanged, raw pages (one per 20 reviews, as MAL serves them), peak memory,
and bytes on disk per review with the raw pages included. $BENCH_ARCHIVE_REVIEWS changes the count.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import fixtures_dir
from reviewhoard.archive.connection import PAGE_SIZE, WAL_CHECKPOINT_BYTES
from reviewhoard.archive.schema import FTS_AUTOMERGE, FTS_HASH_SIZE
from reviewhoard.archive.store import Archive
from reviewhoard.items import Author, RawPage, Review, Subject

REVIEWS = int(os.environ.get("BENCH_ARCHIVE_REVIEWS", "200000"))
BATCH = int(os.environ.get("BENCH_ARCHIVE_BATCH", "500"))
PER_PAGE = 20
BAR_RATE = 20_000
BAR_RATIO = 4.0
BAR_UNCHANGED_SHARE = 0.5
"""Issue 9: "unchanged" against the floor the benchmark prints (it was 50,000/s, which the row
rewrite alone does not reach on these machines)."""
BAR_MEMORY_MB = 300


def base_reviews() -> list[Review]:
    out = []
    for path in sorted((fixtures_dir() / "myanimelist").glob("*.expected.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            out.append(Review.from_dict(json.loads(line)))
    return out


def renumbered(base: list[Review], count: int) -> Iterator[Review]:
    """`count` distinct reviews: fixture reviews with new ids, subjects and author names."""
    for n in range(count):
        r = base[n % len(base)]
        yield dataclasses.replace(
            r,
            review_id=str(1_000_000 + n),
            url=f"https://myanimelist.net/reviews.php?id={1_000_000 + n}",
            subject=Subject(r.subject.type, str(n // 400), f"Title {n // 400}", None),
            author=Author(f"{r.author.name}_{n // 3}", None),
        )


SEEN_AT = "2026-01-01T00:00:00.000000Z"


def bare_row(r: Review) -> tuple[object, ...]:
    """The review as a row of `reviews` holds it (every record field, serialized the same way,
    the seen times), minus what only the store derives: author id, hashes, counters."""
    progress = r.progress
    return (
        r.site,
        r.review_id,
        r.url,
        r.subject.type,
        r.subject.id,
        r.subject.title,
        r.author.name,
        r.published_at,
        r.rating,
        r.rating_scale,
        r.recommendation,
        json.dumps(r.tags, ensure_ascii=False),
        None if r.is_spoiler is None else int(r.is_spoiler),
        int(r.is_preliminary),
        progress.seen if progress else None,
        progress.total if progress else None,
        progress.unit if progress else None,
        None if r.reactions is None else json.dumps(r.reactions, ensure_ascii=False),
        r.helpful_count,
        None if r.sub_scores is None else json.dumps(r.sub_scores, ensure_ascii=False),
        json.dumps(r.extra, ensure_ascii=False, sort_keys=True),
        r.text,
        SEEN_AT,
        SEEN_AT,
    )


BARE_COLUMNS = (
    "site, review_id, url, subject_type, subject_id, subject_title, author, published_at, "
    "rating, rating_scale, recommendation, tags, is_spoiler, is_preliminary, progress_seen, "
    "progress_total, progress_unit, reactions, helpful_count, sub_scores, extra, text, "
    "first_seen_at, last_seen_at"
)


def bare_insert(path: Path, base: list[Review]) -> float:
    """The baseline: the same rows, one executemany into a plain table, one transaction, in a
    file with the archive's page size (which makes wide rows cheaper for it too)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"CREATE TABLE reviews ({BARE_COLUMNS})")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO reviews VALUES ({', '.join('?' * len(BARE_COLUMNS.split(',')))})",
        (bare_row(r) for r in renumbered(base, REVIEWS)),
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def bare_touch(path: Path, base: list[Review] | None = None) -> float:
    """The floor for "seen again, unchanged": on the bare table, one `UPDATE` of `last_seen_at`
    by rowid for every row, `BATCH` rows per transaction (as the store commits), with the
    archive's WAL settings. No lookup, no versions: the row rewrite alone, which a review's
    `last_seen_at` costs while its row holds the text; with `base`, also the sha256 of each
    row's text, the least that tells an unchanged text from an edited one."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_BYTES // PAGE_SIZE}")
    conn.execute("PRAGMA cache_size = -65536")
    # A time the rows do not hold yet (each call moves them on), so every row really changes.
    later = "2026-02-01T00:00:00.000000Z" if base is None else "2026-03-01T00:00:00.000000Z"
    started = time.perf_counter()
    for start in range(1, REVIEWS + 1, BATCH):
        if base is not None:
            for n in range(start - 1, min(start - 1 + BATCH, REVIEWS)):
                hashlib.sha256(base[n % len(base)].text.encode("utf-8")).digest()
        conn.execute("BEGIN")
        conn.executemany(
            "UPDATE reviews SET last_seen_at = ? WHERE rowid = ?",
            ((later, rowid) for rowid in range(start, min(start + BATCH, REVIEWS + 1))),
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def fts_rebuild(path: Path) -> float:
    """The floor FTS sets: one FTS5 `rebuild` over the bare table's text, author and subject,
    with the archive's FTS5 settings."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE VIRTUAL TABLE reviews_fts USING fts5(text, subject_title, author, "
        "content='reviews', tokenize='unicode61 remove_diacritics 2')"
    )
    for name, value in (("hashsize", FTS_HASH_SIZE), ("automerge", FTS_AUTOMERGE)):
        conn.execute("INSERT INTO reviews_fts (reviews_fts, rank) VALUES (?, ?)", (name, value))
    started = time.perf_counter()
    conn.execute("INSERT INTO reviews_fts(reviews_fts) VALUES ('rebuild')")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def store_all(path: Path, base: list[Review]) -> float:
    """The archive's store, in the store pipeline's batches."""
    started = time.perf_counter()
    with Archive(path) as archive:
        batch: list[Review] = []
        for review in renumbered(base, REVIEWS):
            batch.append(review)
            if len(batch) == BATCH:
                archive.write(batch)
                batch = []
        if batch:
            archive.write(batch)
    return time.perf_counter() - started


def store_pages(path: Path, body: bytes) -> tuple[float, int]:
    """One raw page per 20 reviews, each body distinct (so each is compressed and stored)."""
    pages = REVIEWS // PER_PAGE
    started = time.perf_counter()
    with Archive(path) as archive:
        for start in range(0, pages, 50):
            archive.write(
                RawPage(
                    url=f"https://myanimelist.net/anime/{n}/x/reviews",
                    final_url=f"https://myanimelist.net/anime/{n}/x/reviews",
                    status=200,
                    headers={"content-type": "text/html; charset=UTF-8"},
                    body=body + f"<!-- {n} -->".encode(),
                    fetched_at="2026-01-01T00:00:00Z",
                    site="myanimelist",
                    parser_version="1",
                )
                for n in range(start, min(start + 50, pages))
            )
    return time.perf_counter() - started, pages


def disk_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main() -> bool:
    base = base_reviews()
    body = (fixtures_dir() / "myanimelist" / "anime-1-reviews-2022-10.html").read_bytes()
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        bare_s = bare_insert(Path(tmp) / "bare.db", base)
        bare_bytes = disk_bytes(Path(tmp) / "bare.db")
        touch_s = bare_touch(Path(tmp) / "bare.db")
        touch_hash_s = bare_touch(Path(tmp) / "bare.db", base)
        rebuild_s = fts_rebuild(Path(tmp) / "bare.db")
        db = Path(tmp) / "archive.db"
        store_s = store_all(db, base)
        again_s = store_all(db, base)
        started = time.perf_counter()
        for _ in renumbered(base, REVIEWS):
            pass
        making_s = time.perf_counter() - started
        # The bare insert again, after the store: load on a shared machine drifts, so the
        # faster of the two is the baseline (the stricter one for the store's ratio).
        bare2_s = bare_insert(Path(tmp) / "bare2.db", base)
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM reviews), (SELECT count(*) FROM review_versions), "
            "(SELECT count(*) FROM reviews_fts WHERE reviews_fts MATCH 'bebop')"
        ).fetchone()
        conn.close()
        reviews_bytes = disk_bytes(db)
        pages_s, pages = store_pages(db, body)
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        total_bytes = disk_bytes(db)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    first_bare_s, bare_s = bare_s, min(bare_s, bare2_s)
    bare_rate, store_rate, again_rate = REVIEWS / bare_s, REVIEWS / store_s, REVIEWS / again_s
    ratio = store_s / bare_s

    def line(label: str, rate: float, unit: str, note: str) -> None:
        print(f"   {label:<46} {rate:>9,.0f} {unit:<10} ({note})")

    print(
        f"   {REVIEWS:,} distinct reviews ({len(base)} fixture reviews renumbered), batch {BATCH}"
    )
    line(
        "bare executemany, plain table, 1 transaction",
        bare_rate,
        "reviews/s",
        f"{bare_s:.1f} s, faster of {first_bare_s:.1f} s before and {bare2_s:.1f} s after",
    )
    both_s = first_bare_s + rebuild_s
    line(
        "bare executemany, then one FTS5 rebuild",
        REVIEWS / both_s,
        "reviews/s",
        f"{both_s:.1f} s, {both_s / first_bare_s:.2f}x its bare insert",
    )
    line(
        "archive store: versions + FTS + authors/tags",
        store_rate,
        "reviews/s",
        f"{store_s:.1f} s, {ratio:.2f}x the bare insert",
    )
    line(
        "archive store again, unchanged",
        again_rate,
        "reviews/s",
        f"{again_s:.1f} s, {making_s:.1f} s of it making the input reviews",
    )
    line(
        "bare UPDATE of last_seen_at by rowid, same rows",
        REVIEWS / touch_s,
        "reviews/s",
        f"{touch_s:.1f} s, the floor while a row holds its text",
    )
    line(
        "  the same, and a sha256 of each text",
        REVIEWS / touch_hash_s,
        "reviews/s",
        f"{touch_hash_s:.1f} s, what telling unchanged from edited adds",
    )
    line(
        f"raw pages, zstd, one per {PER_PAGE} reviews",
        pages / pages_s,
        "pages/s",
        f"{pages:,} pages, {pages_s:.1f} s",
    )
    print(
        f"   on disk per review: {reviews_bytes / REVIEWS:,.0f} B reviews only, "
        f"{total_bytes / REVIEWS:,.0f} B with raw pages (bare table {bare_bytes / REVIEWS:,.0f} B)"
    )
    print(f"   peak memory (max RSS of the process): {peak_mb:,.0f} MB")
    unchanged_share = touch_hash_s / again_s
    print(
        f"   new reviews: one FTS5 rebuild alone (the least the search index costs) is "
        f"{rebuild_s / first_bare_s:.2f}x the bare insert; the store is "
        f"{store_s / both_s:.2f}x the bare insert plus that rebuild"
    )
    print(
        f"   unchanged: {unchanged_share:.2f}x the row rewrite with a sha256 of each text "
        f"(bar >= {BAR_UNCHANGED_SHARE})"
    )
    ok_count = counts[0] == REVIEWS and counts[1] == REVIEWS and counts[2] > 0
    checks = {
        f"at least {BAR_RATE:,} reviews/s or at most {BAR_RATIO}x the bare insert": (
            store_rate >= BAR_RATE or ratio <= BAR_RATIO
        ),
        f"unchanged at least {BAR_UNCHANGED_SHARE}x the row rewrite with a sha256, same run": (
            unchanged_share >= BAR_UNCHANGED_SHARE
        ),
        f"peak memory under {BAR_MEMORY_MB} MB": peak_mb < BAR_MEMORY_MB,
        "every review stored once with one version and searchable": ok_count,
    }
    for name, passed in checks.items():
        print(f"   [{'ok' if passed else 'MISSED'}] {name}")
    sys.stdout.flush()
    return all(checks.values())
