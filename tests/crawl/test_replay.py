"""The replay site over real HTTP on 127.0.0.1: routes, faults, request log, reloads; and the
made-up multi-page feeds it serves."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reviewhoard.replay.manifest import Fault, ManifestError, Route, load_manifest, parse_manifest
from reviewhoard.replay.server import ReplaySite
from reviewhoard.sites.myanimelist.synth import load_template, write_feed, write_site


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def raw_get(site: ReplaySite, path: str) -> http.client.HTTPResponse:
    host, port = site.httpd.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    conn.request("GET", path)
    return conn.getresponse()


def test_route_matching_ignores_the_slug_and_defaults_page_1():
    route = Route(path="/anime/1/*/reviews", file="x.html", query={"p": "1"})
    assert route.matches("/anime/1/Cowboy_Bebop/reviews", {})
    assert route.matches("/anime/1/_/reviews", {"p": "1", "sort": "newest"})
    assert not route.matches("/anime/1/_/reviews", {"p": "2"})
    assert not route.matches("/anime/2/_/reviews", {})
    assert not route.matches("/anime/1/reviews", {})


def test_manifest_errors_name_the_file_and_the_fix(tmp_path: Path):
    with pytest.raises(ManifestError, match="route 0 has fault kind 'boom'; use one of delay"):
        parse_manifest({"routes": [{"path": "/", "file": "a", "faults": [{"kind": "boom"}]}]}, "m")
    with pytest.raises(
        ManifestError, match=r"no manifest\.json and no saved pages of a known site"
    ):
        load_manifest(tmp_path)


def test_builtin_manifest_serves_the_saved_pages_where_they_came_from(mal_fixtures: Path):
    with ReplaySite(mal_fixtures) as site:
        status, headers, body = get(f"{site.url}/anime/1/Cowboy_Bebop/reviews")
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        saved = (mal_fixtures / "anime-1-reviews-2022-10.html").read_bytes()
        assert b"More Reviews" in saved and b"More Reviews" not in body  # its last saved page
        assert body.count(b'class="review-element') == 20
        assert get(f"{site.url}/anime/1/_/reviews?p=2")[0] == 404
        main = get(f"{site.url}/anime/11757/Sword_Art_Online")[2]
        assert main == (mal_fixtures / "anime-11757-main-2023-02.html").read_bytes()
        status, _, robots = get(f"{site.url}/robots.txt")
        assert status == 200 and robots.startswith(b"User-agent: *")
        log = json.loads(get(f"{site.url}/_replay/log")[2])
    assert [(e["path"], e["status"]) for e in log] == [
        ("/anime/1/Cowboy_Bebop/reviews", 200),
        ("/anime/1/_/reviews", 404),
        ("/anime/11757/Sword_Art_Online", 200),
        ("/robots.txt", 200),
    ]
    assert log[1]["query"] == "p=2" and all(
        e["user_agent"].startswith("Python-urllib") for e in log
    )


@pytest.fixture
def feed_site(tmp_path: Path, mal_fixtures: Path):
    template = load_template(mal_fixtures / "anime-1-reviews-2022-10.html")
    routes = write_feed(tmp_path, template, list(range(145, 100, -1)))
    return tmp_path, routes


def test_made_up_feed_pages_are_renumbered_and_linked(feed_site):
    directory, routes = feed_site
    assert [(r.path, r.query, r.file) for r in routes] == [
        ("/anime/1/*/reviews", {"p": str(n)}, f"anime-1-p{n}.html") for n in (1, 2, 3)
    ]
    pages = [(directory / r.file).read_text(encoding="utf-8") for r in routes]
    ids = [re.findall(r'reviews\.php\?id=(\d+)"', p) for p in pages]
    assert ids == [
        [str(i) for i in range(145, 125, -1)],
        [str(i) for i in range(125, 105, -1)],
        [str(i) for i in range(105, 100, -1)],
    ]
    more = [re.findall(r'href="([^"]*)"[^>]*>More Reviews', p) for p in pages]
    next_2 = (
        "https://myanimelist.net/anime/1/_/reviews?sort=newest&amp;preliminary=on&amp;spoiler=on"
    )
    assert more == [[f"{next_2}&amp;p=2"] * 2, [f"{next_2}&amp;p=3"] * 2, []]


def test_a_made_up_review_keeps_its_content_wherever_it_lands(mal_fixtures: Path, tmp_path: Path):
    template = load_template(mal_fixtures / "anime-1-reviews-2022-10.html")
    block = template.block(130)
    source_id = template.block_ids[130 % 20]
    assert "reviews.php?id=130" in block and 'data-id="130"' in block
    assert f"id={source_id}" not in block and f'data-id="{source_id}"' not in block
    assert block != template.block(131)
    before = write_feed(tmp_path / "a", template, list(range(135, 125, -1)))
    after = write_feed(tmp_path / "b", template, list(range(160, 125, -1)))  # 25 new on top
    assert block in (tmp_path / "a" / before[0].file).read_text(encoding="utf-8")
    assert block in (tmp_path / "b" / after[1].file).read_text(encoding="utf-8")


def test_faults_and_reload(feed_site):
    directory, routes = feed_site
    routes[0].faults = [Fault(kind="429", retry_after="7", times=1)]
    routes[1].faults = [Fault(kind="503", times=1), Fault(kind="500", times=1)]
    routes[2].faults = [Fault(kind="delay", seconds=0.3, times=1)]
    write_site(directory, routes, robots_txt="User-agent: *\nDisallow: /manga/\n")
    with ReplaySite(directory) as site:
        status, headers, _ = get(f"{site.url}/anime/1/x/reviews?p=1")
        assert (status, headers["Retry-After"]) == (429, "7")
        assert get(f"{site.url}/anime/1/x/reviews?p=1")[0] == 200  # only the first time
        status, headers, _ = get(f"{site.url}/anime/1/x/reviews?p=2")
        assert status == 503 and "Retry-After" not in headers
        assert get(f"{site.url}/anime/1/x/reviews?p=2")[0] == 500
        assert get(f"{site.url}/anime/1/x/reviews?p=2")[0] == 200
        started = time.monotonic()
        assert get(f"{site.url}/anime/1/x/reviews?p=3")[0] == 200
        assert time.monotonic() - started >= 0.3
        assert get(f"{site.url}/robots.txt")[2] == b"User-agent: *\nDisallow: /manga/\n"

        routes[0].faults = [Fault(kind="drop"), Fault(kind="truncate")]
        routes[1].faults = [Fault(kind="truncate")]
        write_site(directory, routes)
        get(f"{site.url}/_replay/reload")
        with pytest.raises(http.client.RemoteDisconnected):
            raw_get(site, "/anime/1/x/reviews?p=1")
        answer = raw_get(site, "/anime/1/x/reviews?p=2")
        full = (directory / routes[1].file).stat().st_size
        assert int(answer.headers["Content-Length"]) == full
        with pytest.raises(http.client.IncompleteRead) as cut:
            answer.read()
        assert len(cut.value.partial) == full // 2
        log = json.loads(get(f"{site.url}/_replay/log?clear=1")[2])
        assert json.loads(get(f"{site.url}/_replay/log")[2]) == []
    assert [(e["query"], e["status"], e["fault"]) for e in log] == [
        ("p=1", 429, "429"),
        ("p=1", 200, None),
        ("p=2", 503, "503"),
        ("p=2", 500, "500"),
        ("p=2", 200, None),
        ("p=3", 200, None),
        ("", 200, None),
        ("p=1", 0, "drop"),
        ("p=2", 200, "truncate"),
    ]


def test_replay_site_command_prints_its_url_serves_and_stops_on_ctrl_c(mal_fixtures: Path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reviewhoard.hoard",
            "replay-site",
            str(mal_fixtures),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r" at (http://127\.0\.0\.1:\d+)  \(Ctrl-C to stop\)$", line.rstrip("\n"))
        assert line.startswith(f"replay site for {mal_fixtures} at ") and found, line
        status, _, body = get(f"{found.group(1)}/manga/1/Monster/reviews")
        assert status == 200 and body.count(b'class="review-element') == 20
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_replay_site_command_refuses_a_folder_it_cannot_serve(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "reviewhoard.hoard", "replay-site", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"hoard: {tmp_path}: no manifest.json and no saved pages of a known site; "
        "point at a folder of ../shared/fixtures or write a manifest\n"
    )
