"""The watchlist file `hoard update` reads (hoard.toml): which archive, which Scrapy settings,
which feeds to watch.

`EXAMPLE` below is a whole one (it is what `hoard update --help` shows, and a test loads it).

Every mistake is a `UsageError` (exit 2) of one line naming the file, the line and what is wrong,
for example `hoard.toml:7: unknown key 'anmie' in [[watch]] (known: anime, manga, ...)`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hoard.errors import UsageError

TOP_KEYS = ("db", "settings", "watch")
WATCH_KEYS = ("anime", "manga", "recent", "user", "mode", "site")
SITES = {"mal": "myanimelist", "myanimelist": "myanimelist"}
"""Site names a watch may use, and the site each one means."""
RECENT_KINDS = ("anime", "manga")
MODES = ("update", "full")

EXAMPLE = """\
db = "archive.db"          # relative to this file
[settings]                 # any Scrapy setting
DOWNLOAD_DELAY = 4
[[watch]]
site = "mal"
anime = [1, 5114]
manga = [1]
mode = "update"            # default: stop at known reviews; "full": every page
[[watch]]
site = "mal"
recent = "anime"
"""
"""A whole watchlist, shown by `hoard update --help`; tests load it, so the help stays valid."""
"""`update`: stop paging a feed at the first page with nothing new; `full`: read every page (and
mark reviews no longer listed as gone)."""


@dataclass(slots=True, frozen=True)
class Watch:
    """One `[[watch]]` table: feeds of one site to crawl on every run."""

    site: str
    """Site key as the parsers know it ("myanimelist")."""
    anime: tuple[int, ...] = ()
    """Anime ids whose review tabs are crawled."""
    manga: tuple[int, ...] = ()
    """Manga ids whose review tabs are crawled."""
    recent: str | None = None
    """"anime" or "manga": the site-wide listing of the newest reviews."""
    user: str | None = None
    """A user name whose profile reviews are crawled."""
    mode: str = "update"
    """"update" (stop at what the archive already has) or "full" (read every page)."""
    number: int = 1
    """Position of the table in the file (1 = the first [[watch]])."""
    line: int = 0
    """Line of its `[[watch]]` header, for messages."""

    @property
    def feeds(self) -> list[str]:
        """The feed keys this watch crawls, as the spider names them in its stats."""
        keys = [f"anime:{i}" for i in self.anime] + [f"manga:{i}" for i in self.manga]
        if self.recent:
            keys.append(f"recent:{self.recent}")
        if self.user:
            keys.append(f"user:{self.user}")
        return keys

    @property
    def label(self) -> str:
        """How messages name this watch: `watch #2 (mal recent=anime, line 11)`."""
        return f"watch #{self.number} ({self.site} {' '.join(self.feeds)}, line {self.line})"


@dataclass(slots=True)
class Config:
    """A loaded and checked hoard.toml."""

    path: Path
    db: Path | None
    """The archive, resolved against the file's folder; None when the file does not say."""
    settings: dict[str, Any] = field(default_factory=dict)
    watches: list[Watch] = field(default_factory=list)

    def watch_for_feed(self, feed: str) -> Watch | None:
        """The watch that crawls `feed` ("anime:1"), or None."""
        return next((w for w in self.watches if feed in w.feeds), None)


class _Lines:
    """Finds the line of a key in the TOML text, since tomllib reports lines only for syntax."""

    _HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def _sections(self) -> list[tuple[str, int, int]]:
        """(table name, header line, end line) for every [table] / [[array]] header, plus the
        top level as ("", 0, ...). Lines are 1-based; a section ends before the next header."""
        heads: list[tuple[str, int]] = [("", 0)]
        for number, text in enumerate(self.lines, 1):
            match = self._HEADER.match(text)
            if match:
                heads.append((match.group(2).strip('"'), number))
        ends = [line for _, line in heads[1:]] + [len(self.lines) + 1]
        return [(name, line, end) for (name, line), end in zip(heads, ends, strict=True)]

    def table(self, name: str, number: int = 1) -> int:
        """Header line of the `number`-th table called `name` (1 when not found)."""
        found = [line for n, line, _ in self._sections() if n == name]
        return found[number - 1] if len(found) >= number else 1

    def key(self, key: str, table: str = "", number: int = 1) -> int:
        """Line where `key =` is set inside the `number`-th `table` (its header when not found)."""
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
        sections = [(line, end) for n, line, end in self._sections() if n == table]
        if len(sections) < number:
            return 1
        start, end = sections[number - 1]
        for index in range(start, end - 1):
            if pattern.match(self.lines[index]):
                return index + 1
        return max(start, 1)


def _known(keys: tuple[str, ...] | list[str]) -> str:
    return ", ".join(keys)


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def load_config(path: str | Path) -> Config:
    """Read and check a watchlist file; UsageError (exit 2) naming file, line and fault."""
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{name}: no such config file; write one (see `hoard update --help`) or pass --config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name}: cannot read the config file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(_syntax_message(name, exc)) from None
    lines = _Lines(text)

    def fail(line: int, message: str) -> UsageError:
        return UsageError(f"{name}:{line}: {message}")

    for key in data:
        if key not in TOP_KEYS:
            raise fail(
                lines.key(key),
                f"unknown key {key!r} at the top level (known: {_known(TOP_KEYS)})"
                + _suggest(key, TOP_KEYS),
            )

    db: Path | None = None
    if "db" in data:
        if not isinstance(data["db"], str) or not data["db"].strip():
            raise fail(
                lines.key("db"), "'db' must be a file path in quotes, e.g. db = \"archive.db\""
            )
        db = (path.parent / data["db"]).resolve()

    settings = _check_settings(data.get("settings", {}), lines, fail)

    raw_watches = data.get("watch", [])
    if not isinstance(raw_watches, list) or not all(isinstance(w, dict) for w in raw_watches):
        raise fail(lines.key("watch"), "'watch' must be [[watch]] tables")
    if not raw_watches:
        raise fail(
            1, 'no [[watch]] tables: add at least one, e.g. [[watch]] site = "mal" anime = [1]'
        )
    watches = [_check_watch(raw, n, lines, fail) for n, raw in enumerate(raw_watches, 1)]
    seen: dict[str, Watch] = {}
    for watch in watches:
        for feed in watch.feeds:
            if feed in seen:
                raise fail(
                    watch.line,
                    f"feed {feed} is watched twice (also by watch #{seen[feed].number}, "
                    f"line {seen[feed].line}); keep one",
                )
            seen[feed] = watch
    return Config(path=path, db=db, settings=settings, watches=watches)


def _syntax_message(name: str, exc: tomllib.TOMLDecodeError) -> str:
    """`hoard.toml:3: <tomllib's reason>` from tomllib's '... (at line 3, column 5)'."""
    text = str(exc)
    match = re.search(r"\(at line (\d+), column \d+\)$", text)
    line = match.group(1) if match else "1"
    reason = text[: match.start()].strip() if match else text
    return f"{name}:{line}: not valid TOML: {reason}"


def _check_settings(raw: Any, lines: _Lines, fail: Any) -> dict[str, Any]:
    """[settings]: upper-case names of known Scrapy or project settings, with values of the
    setting's type (a number where the default is a number)."""
    if not isinstance(raw, dict):
        raise fail(lines.key("settings"), "'settings' must be a [settings] table")
    known = _known_settings()
    for key, value in raw.items():
        line = lines.key(key, "settings")
        if key not in known:
            raise fail(
                line,
                f"unknown Scrapy setting {key!r} in [settings]" + _suggest(key, list(known)),
            )
        default = known[key]
        if not _same_kind(default, value):
            raise fail(
                line,
                f"setting {key} must be {_kind(default)}, not {_kind(value)} ({value!r})",
            )
    return dict(raw)


def _known_settings() -> dict[str, Any]:
    """Scrapy's default settings, this project's settings.py and the supervisor's, by name."""
    from scrapy.settings import default_settings

    import settings as project_settings  # the project's Scrapy settings module
    from hoard.supervise import SUPERVISOR_SETTINGS

    known: dict[str, Any] = dict(SUPERVISOR_SETTINGS)
    for module in (default_settings, project_settings):
        for key in dir(module):
            if key.isupper():
                known[key] = getattr(module, key)
    return known


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _same_kind(default: Any, value: Any) -> bool:
    """Whether `value` may replace a setting whose default is `default`."""
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | tuple):
        return isinstance(value, list)
    if isinstance(default, dict):
        return isinstance(value, dict)
    return True


def _check_watch(raw: dict[str, Any], number: int, lines: _Lines, fail: Any) -> Watch:
    """One [[watch]] table: known keys, right types, at least one feed."""
    header = lines.table("watch", number)

    def line_of(key: str) -> int:
        return lines.key(key, "watch", number)

    for key in raw:
        if key not in WATCH_KEYS:
            raise fail(
                line_of(key),
                f"unknown key {key!r} in [[watch]] (known: {_known(WATCH_KEYS)})"
                + _suggest(key, WATCH_KEYS),
            )
    site = raw.get("site")
    if site is None:
        raise fail(header, "[[watch]] without 'site': add site = \"mal\"")
    if not isinstance(site, str) or site.lower() not in SITES:
        raise fail(
            line_of("site"),
            f"unknown site {site!r} in [[watch]] (known: {_known(sorted(SITES))})",
        )
    ids: dict[str, tuple[int, ...]] = {}
    for key in ("anime", "manga"):
        value = raw.get(key, [])
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
        ):
            raise fail(
                line_of(key),
                f"'{key}' must be a list of positive title ids, e.g. {key} = [1, 5114]; "
                f"got {value!r}",
            )
        ids[key] = tuple(dict.fromkeys(value))
    recent = raw.get("recent")
    if recent is not None and recent not in RECENT_KINDS:
        raise fail(line_of("recent"), f'\'recent\' must be "anime" or "manga", not {recent!r}')
    user = raw.get("user")
    if user is not None and (not isinstance(user, str) or not user.strip()):
        raise fail(line_of("user"), f"'user' must be a user name in quotes, not {user!r}")
    mode = raw.get("mode", "update")
    if mode not in MODES:
        raise fail(line_of("mode"), f"'mode' must be one of {_known(MODES)}, not {mode!r}")
    watch = Watch(
        site=SITES[site.lower()],
        anime=ids["anime"],
        manga=ids["manga"],
        recent=recent,
        user=user,
        mode=mode,
        number=number,
        line=header,
    )
    if not watch.feeds:
        raise fail(
            header,
            '[[watch]] watches nothing: add anime = [ids], manga = [ids], recent = "anime" '
            'or user = "name"',
        )
    return watch
