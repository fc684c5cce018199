"""hoard.toml: what a good file gives, and the one-line message (file:line: what) for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewhoard.hoard import exitcodes
from reviewhoard.hoard.config import COMMON_WATCH_KEYS, EXAMPLE, load_config
from reviewhoard.hoard.errors import UsageError
from reviewhoard.sites import all_sites
from tests.conftest import ROOT

GOOD = """\
db = "data/archive.db"

[settings]          # any Scrapy setting
DOWNLOAD_DELAY = 4

[[watch]]
site = "mal"
anime = [1, 5114]
manga = [1]

[[watch]]
site = "mal"
recent = "anime"
mode = "full"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hoard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as caught:
        load_config(path)
    assert caught.value.exit_code == exitcodes.USAGE
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def test_good_file_gives_every_watch_and_setting(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.db == (tmp_path / "data" / "archive.db").resolve()
    assert config.settings == {"DOWNLOAD_DELAY": 4}
    first, second = config.watches
    assert (first.site, first.options, first.mode) == (
        "myanimelist",
        (("anime", ("1", "5114")), ("manga", ("1",))),
        "update",
    )
    assert (first.number, first.line) == (1, 6)
    assert first.feeds == ["anime:1", "anime:5114", "manga:1"]
    assert (second.site, second.options, second.mode, second.number, second.line) == (
        "myanimelist",
        (("recent", ("anime",)),),
        "full",
        2,
        11,
    )
    assert second.feeds == ["recent:anime"]
    assert config.watch_for_feed("manga:1") is first
    assert config.watch_for_feed("recent:anime") is second
    assert config.watch_for_feed("anime:2") is None


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_config(tmp_path / "nope.toml")
    assert str(caught.value) == (
        f"{tmp_path / 'nope.toml'}: no such config file; write one (see `hoard update --help`) "
        "or pass --config"
    )


def test_unknown_key_in_watch_names_line_and_known_keys(tmp_path: Path) -> None:
    text = GOOD.replace("manga = [1]", "anmie = [1]")
    known = ", ".join((*COMMON_WATCH_KEYS, "anime", "manga", "recent", "user"))
    assert error_of(tmp_path, text) == (
        f"9: unknown key 'anmie' in [[watch]] of myanimelist (known: {known}); "
        "did you mean 'anime'?"
    )


def test_unknown_key_in_second_watch_points_at_its_line(tmp_path: Path) -> None:
    text = GOOD + "usr = 'x'\n"
    assert error_of(tmp_path, text).startswith("15: unknown key 'usr' in [[watch]]")


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert error_of(tmp_path, "dbase = 'a.db'\n" + GOOD.split("\n", 1)[1]) == (
        "1: unknown key 'dbase' at the top level (known: db, settings, watch)"
    )


def test_wrong_type_of_ids(tmp_path: Path) -> None:
    text = GOOD.replace("anime = [1, 5114]", 'anime = ["cowboy bebop"]')
    assert error_of(tmp_path, text) == (
        "8: 'anime': anime ids are numbers (as in /anime/1/...), not 'cowboy bebop'"
    )


def test_wrong_type_of_setting_and_unknown_setting(tmp_path: Path) -> None:
    text = GOOD.replace("DOWNLOAD_DELAY = 4", 'DOWNLOAD_DELAY = "4s"')
    assert error_of(tmp_path, text) == (
        "4: setting DOWNLOAD_DELAY must be a number, not a string ('4s')"
    )
    text = GOOD.replace("DOWNLOAD_DELAY = 4", "DOWNLOAD_DELY = 4")
    assert error_of(tmp_path, text) == (
        "4: unknown Scrapy setting 'DOWNLOAD_DELY' in [settings]; did you mean 'DOWNLOAD_DELAY'?"
    )


def test_syntax_error_gives_tomls_line(tmp_path: Path) -> None:
    text = GOOD.replace("manga = [1]", "manga = [1")
    message = error_of(tmp_path, text)
    # tomllib notices the unclosed array at the next line it cannot read
    assert message == "11: not valid TOML: Unclosed array"


def test_bad_values(tmp_path: Path) -> None:
    assert error_of(tmp_path, GOOD.replace('recent = "anime"', 'recent = "films"')) == (
        "13: 'recent' must be one of anime, manga, not 'films'"
    )
    assert error_of(
        tmp_path, GOOD.replace('site = "mal"\nrecent', 'site = "imdb"\nrecent')
    ).startswith("12: unknown site 'imdb' in [[watch]] (known: ")
    assert error_of(tmp_path, GOOD.replace('mode = "full"', 'mode = "all"')) == (
        "14: 'mode' must be one of update, full, not 'all'"
    )
    assert error_of(tmp_path, 'db = 5\n[[watch]]\nsite = "mal"\nanime = [1]\n') == (
        "1: 'db' must be a file path in quotes, e.g. db = \"archive.db\""
    )


def test_watch_without_feeds_or_site_and_no_watch(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[[watch]]\nsite = "mal"\n').startswith(
        "1: [[watch]] watches nothing: add one of anime = [...], manga = [...]"
    )
    assert error_of(tmp_path, "[[watch]]\nanime = [1]\n").startswith(
        "1: [[watch]] without 'site': add site = \""
    )
    assert error_of(tmp_path, 'db = "a.db"\n').startswith("1: no [[watch]] tables")


def test_same_feed_twice_is_refused(tmp_path: Path) -> None:
    text = GOOD + '\n[[watch]]\nsite = "mal"\nanime = [5114]\n'
    assert error_of(tmp_path, text) == (
        "16: feed anime:5114 is watched twice (also by watch #1, line 6); keep one"
    )


def test_the_example_in_update_help_is_a_valid_watchlist(tmp_path: Path) -> None:
    path = tmp_path / "hoard.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    config = load_config(path)
    assert config.db == tmp_path / "archive.db"
    assert config.settings == {"DOWNLOAD_DELAY": 4}
    watches = [(w.site, w.options, w.mode) for w in config.watches]
    assert ("myanimelist", (("anime", ("1", "5114")), ("manga", ("1",))), "update") in watches
    assert ("myanimelist", (("recent", ("anime",)),), "update") in watches
    assert {w.site for w in config.watches} == set(all_sites())


def test_the_example_watchlist_in_the_repository_is_the_one_help_shows(tmp_path: Path) -> None:
    shipped = (ROOT / "examples" / "hoard.toml").read_text(encoding="utf-8")
    assert shipped.endswith(EXAMPLE)
    config = load_config(ROOT / "examples" / "hoard.toml")
    assert {w.site for w in config.watches} == set(all_sites())


@pytest.mark.parametrize(
    ("setting", "why"),
    [
        ("ITEM_PIPELINES = {}", "the archive's writer is the crawl's only pipeline"),
        ('DOWNLOAD_HANDLERS = {file = "scrapy.core.downloader.handlers.file.FileDownloadHandler"}',
         "only http and https are fetched"),
        ("ROBOTSTXT_OBEY = false", "robots.txt is always obeyed"),
    ],
)  # fmt: skip
def test_settings_that_would_break_storage_or_safety_are_refused(
    tmp_path: Path, setting: str, why: str
) -> None:
    text = GOOD.replace("DOWNLOAD_DELAY = 4", setting)
    name = setting.split(" ")[0]
    message = error_of(tmp_path, text)
    assert message.startswith(f"4: setting {name} cannot be changed: {why}")
    assert message.endswith("(remove it from [settings])")
