"""The writer's steps: through the writer `hoard import` uses, and inside a real Scrapy
crawl (a subprocess: one reactor per process) with no network."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from reviewhoard.archive.writer import STEPS, ArchiveWriter
from reviewhoard.items import Capture, RawPage, Review
from reviewhoard.pipelines.normalize import normalize_review
from reviewhoard.pipelines.validate import problems
from tests.archive.test_store import BEBOP_URL, NEW, NEW_AT, raw_page, records, rows

ROOT = Path(__file__).resolve().parent.parent.parent


def capture_of(page: RawPage, reviews: list[Review]) -> Capture:
    """A capture of `page` carrying `reviews`."""
    return Capture(
        url=page.url,
        final_url=page.final_url,
        status=page.status,
        headers=page.headers,
        body=page.body,
        fetched_at=page.fetched_at,
        site=page.site,
        parser_version=page.parser_version,
        reviews=reviews,
    )


def test_the_writer_runs_its_steps_in_the_documented_order():
    names = [cls.__name__ for cls in STEPS]
    assert names == [
        "NormalizePipeline",
        "ValidatePipeline",
        "DropRepeatsPipeline",
        "StorePipeline",
    ]


def test_normalize_spells_fields_one_way(mal_fixtures: Path):
    review = records(mal_fixtures, NEW)[0]
    messy = dataclasses.replace(
        review,
        site=" MyAnimeList ",
        review_id=" 7406 ",
        rating=10.0,
        tags=["Recommended", "Well-written", "well written", " "],
        recommendation="Recommended",
        text="  " + review.text + "\r\n",
    )
    clean = normalize_review(messy)
    assert (clean.site, clean.review_id, clean.rating) == ("myanimelist", "7406", 10)
    assert isinstance(clean.rating, int)
    assert clean.tags == ["recommended", "well_written"]
    assert clean.recommendation == "recommended"
    assert clean.text == review.text
    assert problems(clean) == []


def test_validation_finds_each_contract_breach(mal_fixtures: Path):
    review = records(mal_fixtures, NEW)[0]
    bad = dataclasses.replace(
        review,
        text="  ",
        rating=11,
        published_at="yesterday",
        recommendation="meh",
        reactions={"nice": -1},
        extra={"rating": 3},
    )
    found = problems(bad)
    assert found == [
        "published_at 'yesterday' is not an ISO 8601 date",
        "text is empty",
        "rating 11 outside 0..10",
        "recommendation 'meh' is not one of ('recommended', 'mixed_feelings', 'not_recommended')",
        "reactions are not non-negative counts",
        "extra fields reuse contract names ['rating']",
    ]


def test_writer_stores_page_and_reviews_and_records_rejects(tmp_path: Path, mal_fixtures: Path):
    db = tmp_path / "archive.db"
    reviews = records(mal_fixtures, NEW)
    broken = dataclasses.replace(reviews[3], published_at="not a date")
    writer = ArchiveWriter(str(db), command="test", args={"case": 1}, batch_size=5)
    page = raw_page(mal_fixtures, NEW, NEW_AT)
    writer.write(capture_of(page, [*reviews[:3], broken, *reviews[4:], reviews[0]]))
    writer.write(capture_of(page, [dataclasses.replace(reviews[5], author=None)]))  # type: ignore[arg-type]
    writer.finish()
    assert writer.counts() == {
        "reviews_new": 19,
        "reviews_updated": 0,
        "reviews_unchanged": 1,  # reviews[0] again, dropped as a duplicate of this run
        "reviews_rejected": 2,
        "pages_stored": 1,
    }
    assert writer.stats["hoard/reviews_duplicate"] == 1
    assert rows(db, "SELECT count(*) FROM reviews") == [(19,)]
    rejects = rows(db, "SELECT review_id, reason, page_url, page_id, crawl_id, item FROM rejects")
    assert [r[:5] for r in rejects] == [
        (
            reviews[3].review_id,
            "published_at 'not a date' is not an ISO 8601 date",
            BEBOP_URL,
            1,
            1,
        ),
        (
            reviews[5].review_id,
            "malformed review: 'NoneType' object has no attribute 'name'",
            BEBOP_URL,
            1,
            1,
        ),
    ]
    assert json.loads(rejects[0][5])["text"] == reviews[3].text
    crawl = rows(
        db,
        "SELECT command, args, outcome, reviews_new, reviews_unchanged, reviews_rejected, "
        "pages_stored, finished_at IS NOT NULL FROM crawls",
    )
    assert crawl == [("test", '{"case": 1}', "partial", 19, 1, 2, 1, 1)]


def test_writer_flushes_whole_captures_in_batches(tmp_path: Path, mal_fixtures: Path):
    db = tmp_path / "archive.db"
    writer = ArchiveWriter(str(db), command="test", batch_size=10)
    reviews = records(mal_fixtures, NEW)
    page = raw_page(mal_fixtures, NEW, NEW_AT)
    writer.write(capture_of(page, reviews[:12]))
    assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]  # nothing written mid-page
    second = dataclasses.replace(page, body=page.body + b"<!-- p2 -->", url=BEBOP_URL + "?p=2")
    writer.write(capture_of(second, reviews[12:]))
    assert rows(db, "SELECT count(*), count(DISTINCT page_id) FROM reviews") == [(12, 1)]
    writer.finish()
    assert rows(db, "SELECT count(*), count(DISTINCT page_id) FROM reviews") == [(20, 2)]


SPIDER = textwrap.dedent(
    """
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings
    from reviewhoard.items import Capture, Review

    class Saved(scrapy.Spider):
        name = "saved"

        async def start(self):
            lines = open(sys.argv[2], encoding="utf-8").read().splitlines()
            reviews = [Review.from_dict(json.loads(line)) for line in lines]
            reviews.append(Review.from_dict({**json.loads(lines[0]), "text": ""}))
            yield Capture(url="https://myanimelist.net/anime/1/x/reviews",
                          final_url="https://myanimelist.net/anime/1/x/reviews", status=200,
                          headers={"Content-Type": "text/html"},
                          body=open(sys.argv[3], "rb").read(),
                          fetched_at="2026-01-01T00:00:00Z", site="myanimelist",
                          parser_version="t", reviews=reviews)

    settings = get_project_settings()
    settings.set("HOARD_DB", sys.argv[1])
    settings.set("LOG_LEVEL", "WARNING")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(Saved)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    print(json.dumps({k: v for k, v in stats.items() if k.startswith("hoard/")}, sort_keys=True))
    """
)


def test_store_pipeline_in_a_real_scrapy_crawl_opens_its_own_crawl_row(
    tmp_path: Path, mal_fixtures: Path
):
    db = tmp_path / "archive.db"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SPIDER,
            str(db),
            str(mal_fixtures / f"{NEW}.expected.jsonl"),
            str(mal_fixtures / f"{NEW}.html"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats == {
        "hoard/pages_seen": 1,
        "hoard/pages_stored": 1,
        "hoard/reviews_new": 20,
        "hoard/reviews_rejected": 1,
    }
    crawl = rows(
        db,
        "SELECT command, outcome, finish_reason, reviews_new, reviews_rejected, pages_stored "
        "FROM crawls",
    )
    assert crawl == [("scrapy crawl saved", "partial", "finished", 20, 1, 1)]
    assert rows(db, "SELECT reason FROM rejects") == [("text is empty",)]
    assert rows(db, "SELECT count(*), min(page_id), max(page_id) FROM reviews") == [(20, 1, 1)]
    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
