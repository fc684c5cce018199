"""Three workers and the writer over Redis make the same archive as one local run: several
MyAnimeList titles (served on 127.0.0.1) and a Letterboxd film whose cut reviews are completed
from their own pages (served on 127.0.0.2), walked in full twice, the second time after reviews
were deleted (gone marks) and one was edited (a new version)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewhoard.replay.server import ReplaySite
from reviewhoard.sites import all_sites
from reviewhoard.sites.myanimelist.scratch import ScratchSite
from tests.conftest import fixtures_dir
from tests.distributed.support import (
    FAST,
    RedisServer,
    feed_ids,
    picture,
    rows,
    run,
    start,
    stop_all,
    toml_settings,
)
from tests.e2e.site_replay import SiteReplay

pytestmark = pytest.mark.slow

FILM = "/film/oppenheimer-2023/reviews/"
TITLES = (1, 2, 3)


def fragment_for(cut_text: str) -> bytes:
    paragraphs = cut_text.split("\n\n")
    paragraphs[-1] += " And that is the whole of it."
    lines = ["<br>".join(html.escape(line) for line in p.split("\n")) for p in paragraphs]
    return "".join(f"<p>{p}</p>\n" for p in lines).encode("utf-8")


@pytest.fixture
def letterboxd(tmp_path: Path) -> Iterator[SiteReplay]:
    """Letterboxd's film page, its empty second page and the cut reviews' full texts, served on
    127.0.0.2 (a host of its own: politeness counts per host)."""
    folder = fixtures_dir() / "letterboxd"
    first = folder / "film-oppenheimer-2023-reviews-2026-07.html"
    listed = all_sites()["letterboxd"].parser.parse(
        first.read_bytes(), f"https://letterboxd.com{FILM}"
    )
    replay = SiteReplay(tmp_path / "letterboxd")
    replay.site.httpd.server_close()
    replay.site = ReplaySite(replay.directory, host="127.0.0.2")
    with replay:
        replay.serve(
            f"{FILM}page/2/",
            folder / "film-oppenheimer-2023-reviews-rated5-p9999-empty-2026-07.html",
        )
        replay.serve(FILM, first)
        for review in listed.reviews:
            if review.extra["text_truncated"]:
                saved = folder / f"full-text-viewing-{review.review_id}.html"
                path = f"/s/full-text/viewing:{review.review_id}/"
                if saved.exists():
                    replay.serve(path, saved)
                else:
                    replay.serve(path, body=fragment_for(review.text))
        yield replay


def watchlist(folder: Path, mal: str, letterboxd: str, redis: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    to = f'redis = "{redis}"\n' if redis else ""
    path = folder / "hoard.toml"
    path.write_text(
        f'db = "archive.db"\n\n[settings]\n{toml_settings(FAST)}'
        f'MAL_BASE_URL = "{mal}"\nLETTERBOXD_BASE_URL = "{letterboxd}"\n\n'
        f'[[watch]]\nsite = "mal"\nanime = [1, 2, 3]\nmode = "full"\n{to}\n'
        f'[[watch]]\nsite = "letterboxd"\nfilm = ["oppenheimer-2023"]\nmode = "full"\n'
        f"terms_ok = true\n{to}",
        encoding="utf-8",
    )
    return path


def test_three_workers_and_the_writer_make_the_archive_one_local_run_makes(
    tmp_path: Path, mal_fixtures: Path, letterboxd: SiteReplay
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    with ScratchSite(tmp_path / "mal", mal_fixtures) as mal:
        local = watchlist(tmp_path / "local", mal.url, letterboxd.url, None)
        shared = watchlist(tmp_path / "shared", mal.url, letterboxd.url, server.url)
        writer = start("write", "--redis", server.url, "--db", "archive.db", cwd=shared.parent)
        workers = [start("worker", "--redis", server.url, cwd=tmp_path) for _ in range(3)]
        try:
            feeds = {("anime", t): feed_ids(t, 70) for t in TITLES}
            for state in ("first", "second"):
                if state == "second":  # five reviews deleted, one edited
                    feeds[("anime", 2)] = feeds[("anime", 2)][5:]
                    edited = frozenset([feeds[("anime", 1)][30]])
                    mal.publish(feeds, edited=edited)
                else:
                    mal.publish(feeds)
                by_hand = run("update", "-q", "--config", str(local), cwd=local.parent)
                assert by_hand.returncode == 0, by_hand.stderr
                mal.take_log()
                over_redis = run("update", "--config", str(shared), cwd=shared.parent)
                assert over_redis.returncode == 0, over_redis.stderr
                assert over_redis.stdout.startswith("hoard update: ok: reviews ")
                assert over_redis.stderr == ""
                served = [e["path"] + "?" + e["query"] for e in mal.take_log()]
                pages = [p for p in served if "/reviews" in p]
                assert len(pages) == len(set(pages)) == 3 * 4  # each page once
        finally:
            results = stop_all([writer, *workers])
            server.stop(kill=True)
    for status, _, err in results:
        assert status == 143, err
        assert "Traceback" not in err, err
    mine, theirs = picture(tmp_path / "shared" / "archive.db"), picture(local.parent / "archive.db")
    assert mine == theirs
    # It is a real comparison: both sites, gone marks, a second version, completed texts.
    assert len(mine["reviews"]) == 3 * 70 + 12
    assert {r[0] for r in mine["reviews"]} == {"myanimelist", "letterboxd"}
    assert sum(1 for r in mine["reviews"] if not r[4]) == 5
    assert sum(r[3] for r in mine["reviews"]) == 3 * 70 + 12 + 1
    assert len(mine["versions"]) == 3 * 70 + 12 + 1
    assert rows(
        tmp_path / "shared" / "archive.db",
        "SELECT count(*) FROM reviews WHERE json_extract(extra, '$.text_truncated')",
    ) == [(0,)]
    outcomes = rows(tmp_path / "shared" / "archive.db", "SELECT outcome, command FROM crawls")
    assert [o for o, _ in outcomes] == ["ok", "ok"]
    assert all(c.startswith("hoard update --config") for _, c in outcomes)
