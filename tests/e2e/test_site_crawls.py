"""Each new site crawled end to end by `hoard crawl` through the replay site: a walk to the end,
then an update right after that costs one request per feed; Letterboxd's cut reviews completed
from their own pages; the terms refusal; a challenge page stops the crawl as blocked."""

from __future__ import annotations

import html
import json
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from reviewhoard.replay.harness import run_crawl
from reviewhoard.sites import all_sites
from tests.conftest import fixtures_dir
from tests.e2e.site_replay import SiteReplay, edit_next_data

pytestmark = pytest.mark.slow

FILM = "/film/oppenheimer-2023/reviews/"


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def fragment_for(cut_text: str) -> bytes:
    """A made-up full-text page (bare <p>s, as Letterboxd's) whose text begins with `cut_text`."""
    paragraphs = cut_text.split("\n\n")
    paragraphs[-1] += " And that is the whole of it."
    lines = ["<br>".join(html.escape(line) for line in p.split("\n")) for p in paragraphs]
    return "".join(f"<p>{p}</p>\n" for p in lines).encode("utf-8")


@pytest.fixture
def letterboxd(tmp_path: Path):
    folder = fixtures_dir() / "letterboxd"
    first = folder / "film-oppenheimer-2023-reviews-2026-07.html"
    site = all_sites()["letterboxd"]
    listed = site.parser.parse(first.read_bytes(), f"https://letterboxd.com{FILM}")
    with SiteReplay(tmp_path / "replay") as replay:
        replay.serve(
            f"{FILM}page/2/",
            folder / "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html",
        )
        replay.serve(FILM, first)
        for review in listed.reviews:
            if not review.extra["text_truncated"]:
                continue
            saved = folder / f"full-text-viewing-{review.review_id}.html"
            path = f"/s/full-text/viewing:{review.review_id}/"
            if saved.exists():
                replay.serve(path, saved)
            else:
                replay.serve(path, body=fragment_for(review.text))
        yield replay, listed


def test_letterboxd_is_refused_without_permission(tmp_path: Path, letterboxd) -> None:
    replay, _ = letterboxd
    result = run_crawl(tmp_path / "a.db", replay.url, ["--film", "oppenheimer-2023"],
                       site="letterboxd")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("hoard: letterboxd: Letterboxd's terms of use forbid")
    assert "--terms-ok" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert replay.served() == []
    assert not (tmp_path / "a.db").exists()


def test_letterboxd_walk_completes_cut_reviews_then_update_costs_one_request(
    tmp_path: Path, letterboxd
) -> None:
    replay, listed = letterboxd
    db = tmp_path / "archive.db"
    args = ["--film", "oppenheimer-2023", "--terms-ok"]
    full = run_crawl(db, replay.url, [*args, "--mode", "full"], site="letterboxd")
    assert full.returncode == 0, full.stderr
    cut = [r.review_id for r in listed.reviews if r.extra["text_truncated"]]
    assert len(cut) == 5
    served = replay.served()
    assert served[0] == FILM and f"{FILM}page/2/" in served
    assert sorted(p for p in served if p.startswith("/s/")) == sorted(
        f"/s/full-text/viewing:{rid}/" for rid in cut
    )
    stored = {str(k): str(v) for k, v in rows(db, "SELECT review_id, text FROM reviews")}
    assert len(stored) == 12
    for review in listed.reviews:
        if review.review_id in cut:
            assert stored[review.review_id].startswith(review.text)
            assert len(stored[review.review_id]) > len(review.text)
        else:
            assert stored[review.review_id] == review.text
    assert rows(
        db, "SELECT count(*) FROM reviews WHERE json_extract(extra, '$.text_truncated')"
    ) == [(0,)]
    assert rows(db, "SELECT sum(version_count) FROM reviews") == [(12,)]
    assert rows(db, "SELECT DISTINCT subject_type, subject_id FROM reviews") == [("film", "784328")]

    update = run_crawl(db, replay.url, args, site="letterboxd")
    assert update.returncode == 0, update.stderr
    assert replay.served() == [FILM]  # all archived and unchanged: one page, no full texts
    assert "0 new, 0 updated, 12 unchanged" in update.stdout


def test_goodreads_book_page_archives_its_30_reviews_each_run(tmp_path: Path) -> None:
    saved = fixtures_dir() / "goodreads" / "book-14476341-reviews-2025-04.html"
    db = tmp_path / "archive.db"
    with SiteReplay(tmp_path / "replay") as replay:
        replay.serve("/book/show/14476341/reviews", saved)
        first = run_crawl(db, replay.url, ["--book", "14476341"], site="goodreads")
        assert first.returncode == 0, first.stderr
        assert replay.served() == ["/book/show/14476341/reviews"]
        assert rows(db, "SELECT count(*), count(url) FROM reviews") == [(30, 29)]
        again = run_crawl(db, replay.url, ["--book", "14476341"], site="goodreads")
        assert again.returncode == 0, again.stderr
        assert replay.served() == ["/book/show/14476341/reviews"]
        assert "0 new, 0 updated, 30 unchanged" in again.stdout


def test_trustpilot_walks_its_pages_then_update_costs_one_request(tmp_path: Path) -> None:
    saved = (fixtures_dir() / "trustpilot" / "review-eventnet.de-2024-07.html").read_bytes()

    def page(number: int):
        def edit(data: dict) -> None:
            props = data["props"]["pageProps"]
            props["filters"]["pagination"].update(
                {"currentPage": number, "totalPages": 2, "totalCount": 40}
            )
            if number == 2:  # a second page of older reviews: the same shape, other ids
                for review in props["reviews"]:
                    review["id"] = review["id"][::-1]

        return edit_next_data(saved, edit)

    db = tmp_path / "archive.db"
    with SiteReplay(tmp_path / "replay") as replay:
        replay.serve("/review/eventnet.de", body=page(2), query={"page": "2"})
        replay.serve("/review/eventnet.de", body=page(1))
        full = run_crawl(db, replay.url, ["--company", "eventnet.de", "--mode", "full"],
                         site="trustpilot")  # fmt: skip
        assert full.returncode == 0, full.stderr
        served = replay.served()
        assert len(served) == 2 and "page=2" in served[1]
        assert all("languages=all" in p and "sort=recency" in p for p in served)
        assert rows(db, "SELECT count(*), count(DISTINCT review_id) FROM reviews") == [(40, 40)]
        assert rows(db, "SELECT DISTINCT subject_type, subject_id FROM reviews") == [
            ("company", "eventnet.de")
        ]
        update = run_crawl(db, replay.url, ["--company", "eventnet.de"], site="trustpilot")
        assert update.returncode == 0, update.stderr
        assert len(replay.served()) == 1


def test_a_challenge_page_stops_the_crawl_as_blocked(tmp_path: Path) -> None:
    challenge = (
        b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
        b'<div id="challenge-running">Checking your browser</div>'
        b'<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>'
        b"</body></html>"
    )
    db = tmp_path / "archive.db"
    with SiteReplay(tmp_path / "replay") as replay:
        replay.serve("/book/show/1/reviews", body=challenge)
        result = run_crawl(db, replay.url, ["--book", "1"], site="goodreads")
        assert result.returncode == 3, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("hoard: crawl stopped (blocked):")
        assert "/book/show/1/reviews" in last
        assert replay.served() == ["/book/show/1/reviews"]  # asked once, never again
    assert rows(db, "SELECT outcome, finish_reason FROM crawls") == [("alarm", "blocked")]
    assert rows(db, "SELECT count(*) FROM reviews") == [(0,)]


def test_schemaorg_crawl_of_given_pages(tmp_path: Path) -> None:
    pages = Path(__file__).resolve().parent.parent / "sites" / "schemaorg" / "pages"
    db = tmp_path / "archive.db"
    with SiteReplay(tmp_path / "replay") as replay:
        replay.serve("/products/trail-runner-3", pages / "product-graph.html")
        replay.serve("/recipes/soup", pages / "recipe-review-array.html")
        replay.serve("/fact-check", pages / "factcheck-no-reviews.html")
        urls = [f"{replay.url}{p}" for p in ("/products/trail-runner-3", "/recipes/soup",
                                              "/fact-check")]  # fmt: skip
        result = run_crawl(db, replay.url, ["--url", ",".join(urls)], site="schemaorg")
        assert result.returncode == 0, result.stderr
        assert sorted(replay.served()) == ["/fact-check", "/products/trail-runner-3",
                                           "/recipes/soup"]  # fmt: skip
    site = all_sites()["schemaorg"]
    expected = {
        r.review_id: r
        for name, path in (("product-graph.html", urls[0]), ("recipe-review-array.html", urls[1]))
        for r in site.parser.parse((pages / name).read_bytes(), path).reviews
    }
    assert len(expected) >= 4
    stored = rows(db, "SELECT review_id, author_name, text, rating FROM reviews ORDER BY 1")
    assert stored == sorted(
        (r.review_id, r.author.name, r.text, r.rating) for r in expected.values()
    )
    unknown = [r.review_id for r in expected.values() if r.subject.type is None]
    assert rows(db, "SELECT review_id FROM reviews WHERE subject_type = 'unknown'") == [
        (rid,) for rid in unknown
    ]
    assert rows(db, "SELECT count(*) FROM pages") == [(3,)]
    assert rows(db, "SELECT outcome FROM crawls") == [("ok",)]


def test_steam_walks_three_cursor_pages_then_update_costs_one_request(tmp_path: Path) -> None:
    saved = json.loads(
        (fixtures_dir() / "steam" / "app-620-reviews-aggregate-2019.json").read_text()
    )
    objects = sorted(
        saved["reviews"].values(),
        key=lambda r: (r["timestamp_created"], int(r["recommendationid"])),
        reverse=True,
    )
    assert len(objects) == 190
    cursors = ["*", "AoJ4+abc/=", "AoJ5/def+=", "AoJ6xyz"]  # as Steam's: +, / and =
    chunks = [objects[:100], objects[100:160], objects[160:]]
    db = tmp_path / "archive.db"
    with SiteReplay(tmp_path / "replay") as replay:
        path = "/IUserReviewsService/GetAppReviews/v1/"
        for number, chunk in enumerate(chunks):
            answer: dict[str, dict[str, object]] = {
                "response": {"reviews": chunk, "cursor": cursors[number + 1]}
            }
            if number == 0:
                answer["response"]["query_summary"] = {"num_reviews": 100, "total_reviews": 190}
            replay.serve(path, body=json.dumps(answer).encode(), query={"cursor": cursors[number]},
                         content_type="application/json")  # fmt: skip
        last = {"response": {"cursor": cursors[3]}}  # after the last page: no reviews
        replay.serve(path, body=json.dumps(last).encode(), query={"cursor": cursors[3]},
                     content_type="application/json")  # fmt: skip
        full = run_crawl(db, replay.url, ["--app", "620", "--mode", "full"], site="steam")
        assert full.returncode == 0, full.stderr
        served = replay.served()
        assert len(served) == 4
        sent = [parse_qs(urlsplit(p).query)["cursor"][0] for p in served]
        assert sent == cursors
        assert all("appid=620" in p and "num_per_page=100" in p for p in served)
        assert rows(db, "SELECT count(*), count(DISTINCT review_id) FROM reviews") == [(190, 190)]
        assert rows(db, "SELECT DISTINCT subject_type, subject_id FROM reviews") == [
            ("game", "620")
        ]
        update = run_crawl(db, replay.url, ["--app", "620"], site="steam")
        assert update.returncode == 0, update.stderr
        assert len(replay.served()) == 1
        assert "0 new, 0 updated, 100 unchanged" in update.stdout
