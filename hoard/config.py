"""The watchlist file `hoard update` reads (hoard.toml): which archive, which Scrapy settings,
which feeds to watch.

`EXAMPLE` below is a whole one (it is what `hoard update --help` shows, and a test loads it).

Every mistake is a `UsageError` (exit 2) of one line naming the file, the line and what is wrong,
for example `hoard.toml:7: unknown key 'flim' in [[watch]] of letterboxd (known: ...)`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewhoard.hoard.errors import UsageError

TOP_KEYS = ("db", "settings", "watch")
COMMON_WATCH_KEYS = ("site", "mode", "terms_ok", "warc", "redis")
"""Keys every [[watch]] takes; the others are its site's feed options (`sites.Site.options`)."""
MODES = ("update", "full")


def _example() -> str:
    """A whole watchlist made of the sites' own example watches (`Site.watch_examples`)."""
    from reviewhoard.sites import all_sites

    watches = [
        f'[[watch]]\nsite = "{site.key}"\n{example}'
        for site in all_sites().values()
        for example in site.watch_examples
    ]
    first, *rest = watches
    first = first.rstrip("\n") + (
        '\nmode = "update"            # default: stop at known reviews; "full": every page\n'
    )
    return (
        'db = "archive.db"          # relative to this file\n'
        "[settings]                 # any Scrapy setting\n"
        "DOWNLOAD_DELAY = 4\n" + "".join([first, *rest])
    )


EXAMPLE = _example()
"""A whole watchlist, shown by `hoard update --help`; tests load it, so the help stays valid."""


@dataclass(slots=True, frozen=True)
class Watch:
    """One `[[watch]]` table: feeds of one site to crawl on every run."""

    site: str
    """Site key, whatever name (key or alias) the file used."""
    options: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The site's feed options and their values (`(("app", ("620",)),)`), as the spider takes
    them."""
    mode: str = "update"
    """"update" (stop at what the archive already has) or "full" (read every page)."""
    number: int = 1
    """Position of the table in the file (1 = the first [[watch]])."""
    line: int = 0
    """Line of its `[[watch]]` header, for messages."""
    warc: str | None = None
    """Folder (relative to the file) where its crawl also keeps every response as WARC files."""
    redis: str | None = None
    """The Redis whose shared frontier its feeds go to (workers crawl them), or None (local)."""

    @property
    def feeds(self) -> list[str]:
        """The feed keys this watch crawls, as the site names them in stats."""
        from reviewhoard.sites import site_named

        return [f.key for f in site_named(self.site).make_feeds(dict(self.options))]

    @property
    def label(self) -> str:
        """How messages name this watch: `watch #2 (steam app:620, line 11)`."""
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
        """The watch that crawls `feed` ("app:620"), or None."""
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
            1, "no [[watch]] tables: add at least one (see `hoard update --help` for examples)"
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
    from reviewhoard.hoard.crawl.run import refused_setting

    known = _known_settings()
    for key, value in raw.items():
        line = lines.key(key, "settings")
        refused = refused_setting(key)
        if refused:
            raise fail(line, f"{refused} (remove it from [settings])")
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

    import reviewhoard.settings as project_settings  # the project's Scrapy settings module
    from reviewhoard.hoard.crawl.supervise import SUPERVISOR_SETTINGS
    from reviewhoard.sites import all_sites

    known: dict[str, Any] = dict(SUPERVISOR_SETTINGS)
    for module in (default_settings, project_settings):
        for key in dir(module):
            if key.isupper():
                known[key] = getattr(module, key)
    # The older spelling of HOARD_BASE_URLS: a `<NAME>_BASE_URL` for any of a site's names.
    for site in all_sites().values():
        for name in site.names:
            known.setdefault(f"{name.upper()}_BASE_URL", "")
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


def _values(value: Any) -> list[str] | None:
    """A watch value as the spider's strings: a number, a string or a list of them; None when
    it is none of these."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | str):
            return None
        out += [p.strip() for p in str(item).split(",") if p.strip()]
    return out


def _check_watch(raw: dict[str, Any], number: int, lines: _Lines, fail: Any) -> Watch:
    """One [[watch]] table: a known site, its own keys, right values, at least one feed."""
    from reviewhoard.parsers.errors import PageError
    from reviewhoard.sites import all_sites, site_named

    header = lines.table("watch", number)

    def line_of(key: str) -> int:
        return lines.key(key, "watch", number)

    name = raw.get("site")
    names = [n for s in all_sites().values() for n in s.names]
    if name is None:
        raise fail(header, f"[[watch]] without 'site': add site = \"{names[0]}\"")
    try:
        if not isinstance(name, str):
            raise PageError(f"not a site name: {name!r}")
        site = site_named(name)
    except PageError:
        raise fail(
            line_of("site"), f"unknown site {name!r} in [[watch]] (known: {_known(names)})"
        ) from None
    keys = (*COMMON_WATCH_KEYS, *(o.name for o in site.options))
    for key in raw:
        if key not in keys:
            raise fail(
                line_of(key),
                f"unknown key {key!r} in [[watch]] of {site.key} (known: {_known(keys)})"
                + _suggest(key, keys),
            )
    options: list[tuple[str, tuple[str, ...]]] = []
    for option in site.options:
        if option.name not in raw:
            continue
        values = _values(raw[option.name])
        example = ", ".join(f'"{c}"' for c in option.choices) or "..."
        if values is None or not values:
            raise fail(
                line_of(option.name),
                f"'{option.name}' must be a value or a list of them ({option.help.rstrip('.')}),"
                f" e.g. {option.name} = [{example}]; got {raw[option.name]!r}",
            )
        bad = [v for v in values if option.choices and v not in option.choices]
        if bad:
            raise fail(
                line_of(option.name),
                f"'{option.name}' must be one of {_known(option.choices)}, not {bad[0]!r}",
            )
        options.append((option.name, tuple(dict.fromkeys(values))))
    mode = raw.get("mode", "update")
    if mode not in MODES:
        raise fail(line_of("mode"), f"'mode' must be one of {_known(MODES)}, not {mode!r}")
    terms_ok = raw.get("terms_ok", False)
    if not isinstance(terms_ok, bool):
        raise fail(line_of("terms_ok"), f"'terms_ok' must be true or false, not {terms_ok!r}")
    warc = raw.get("warc")
    if warc is not None and (not isinstance(warc, str) or not warc.strip()):
        raise fail(line_of("warc"), "'warc' must be a folder in quotes, e.g. warc = \"warcs\"")
    redis = raw.get("redis")
    if redis is not None and (not isinstance(redis, str) or not redis.startswith("redis")):
        raise fail(
            line_of("redis"), "'redis' must be a Redis URL in quotes, e.g. redis = "
            '"redis://127.0.0.1:6379/0"',
        )  # fmt: skip
    if site.policy.terms_forbid_crawling and not terms_ok:
        from reviewhoard.hoard.crawl.command import refuse_forbidden

        try:
            refuse_forbidden(site)
        except UsageError as exc:
            raise fail(header, str(exc)) from None
    for name, given in options:
        try:
            site.make_feeds({name: given})
        except ValueError as exc:
            raise fail(line_of(name), f"'{name}': {exc}") from None
    feeds = site.make_feeds(dict(options))
    if not feeds:
        wanted = ", ".join(f"{o.name} = [...]" for o in site.options)
        raise fail(header, f"[[watch]] watches nothing: add one of {wanted}")
    return Watch(
        site=site.key, options=tuple(options), mode=mode, number=number, line=header, warc=warc,
        redis=redis,
    )  # fmt: skip
