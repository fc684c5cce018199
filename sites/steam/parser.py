"""Steam reviews (JSON): bytes and the URL they came from in, reviews and the next page out.

Reads four shapes (`../shared/docs/sites.md`, Steam):

- a page of the retired store API `appreviews/APPID?json=1`: `{success, query_summary, reviews:
  [...], cursor}`; `success` other than 1 is an error answer;
- a page of the Web API `IUserReviewsService/GetAppReviews`: `{"response": {query_summary,
  reviews, cursor}}`, without `reviews` after the last page;
- two merges of many pages written by other tools, which `hoard import` takes in:
  `{"reviews": {ID: review}, "query_summary"}` (no order of its own: newest `timestamp_created`
  first, then id descending) and `{"appid", "reviews": [...]}` (order kept).

The review objects are the same in all four. The app id comes from the envelope's `appid`, else
the URL (`/appreviews/ID`, `appid=ID`, `/app/ID`). A page of either API knows the cursor it was
fetched with (the URL's `cursor`, `*` when absent): `next_url` is the same URL with the answer's
cursor, or None when the page has no reviews or the API repeats the cursor. Merges have no next
page.

Refused with one PageError: the retired community HTML (`steamcommunity.com/app/ID/homecontent/`,
dates without a year), any other HTML (an error or challenge page), bytes that are no JSON or are
cut short, an answer of another kind, and a review missing its id, author, date, verdict, votes or
text: never a partial or guessed review.
"""

from __future__ import annotations

import json
import re
import time
from operator import itemgetter
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from reviewhoard.items import Author, Review, Subject
from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage
from reviewhoard.sites.steam.bbcode import bbcode_text
from reviewhoard.sites.steam.feeds import COMMUNITY_URL, FIRST_CURSOR, GET_APP_REVIEWS, STORE_URL

SITE = "steam"
PARSER_VERSION = "1"
REACTION_KEYS: tuple[str, ...] = ("helpful", "funny")
"""`votes_up`, `votes_funny`."""

COMMUNITY_REASON = (
    "retired Steam community review page (steamcommunity.com/app/ID/homecontent/): its dates "
    f"have no year; fetch the reviews API ({GET_APP_REVIEWS}) instead"
)

_APP_IN_PATH = re.compile(r"/(?:appreviews|app)/([0-9]{1,10})(?:/|$)")
_APP_IN_QUERY = re.compile(r"(?:^|&)appid=([0-9]{1,10})(?:&|$)")
_USUAL_PARTS = itemgetter(
    "recommendationid",
    "author",
    "timestamp_created",
    "timestamp_updated",
    "voted_up",
    "votes_up",
    "votes_funny",
    "review",
    "received_for_free",
    "written_during_early_access",
    "steam_purchase",
    "comment_count",
    "language",
)
"""The parts every review the APIs send has (read in one call: the parse's cost is per review)."""
_AUTHOR_PARTS = itemgetter("steamid", "playtime_forever")
_RECOMMENDATION_ID = itemgetter("recommendationid")
_TIMESTAMP_CREATED = itemgetter("timestamp_created")
_INT_ONLY = {int}
_LEADING = b"\xef\xbb\xbf \t\r\n"  # a UTF-8 byte order mark, JSON whitespace
_PROFILES = f"{COMMUNITY_URL}/profiles/"
_new = object.__new__
_init_review = Review.__init__
_set_author_name = Author.__dict__["name"].__set__
_set_author_url = Author.__dict__["url"].__set__
_MAX_DIGITS = 20  # ids and counts longer than this are no Steam number (and slow to convert)
_MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z: beyond it, no date but garbage


def parse(body: bytes, url: str) -> ParsedPage:
    """One answer (or merge of answers) of Steam's reviews API as reviews, in order."""
    data = _load(body, url)
    if not isinstance(data, dict):
        raise PageError(
            f"not a Steam reviews answer (JSON {type(data).__name__}, not an object)", url
        )
    response = data.get("response")
    reviews: Any
    if isinstance(response, dict):
        kind, container, reviews = "getappreviews", response, response.get("reviews", [])
    elif "success" in data:
        success = data["success"]
        if success != 1 or isinstance(success, bool):
            raise PageError(
                f"Steam answered success {success!r} (not 1): an error answer with no reviews; "
                "check the app id and parameters",
                url,
            )
        if "reviews" not in data:
            raise PageError("Steam's answer has success 1 but no reviews list", url)
        kind, container, reviews = "appreviews", data, data["reviews"]
    elif isinstance(data.get("reviews"), dict | list):
        kind, container, reviews = "merged", data, data["reviews"]
    else:
        raise PageError(
            "not a Steam reviews answer (no `response`, `success` or `reviews` in it)", url
        )

    if isinstance(reviews, dict):
        blocks = _merged_by_id(reviews, url)
    elif isinstance(reviews, list):
        blocks = reviews
    else:
        raise PageError(f"the answer's reviews are a {type(reviews).__name__}, not a list", url)
    if not blocks:
        # The API ends a walk with a page without reviews that repeats the cursor it was sent
        # (or has none): the feed's end, not a change of layout.
        cursor = container.get("cursor")
        past_end = kind != "merged" and (cursor is None or cursor == _sent_cursor(url)[0])
        return ParsedPage([], None, 0, kind, past_end=past_end)

    app_id = _app_id(data, url)
    subject = Subject("game", app_id, None, f"{STORE_URL}/app/{app_id}/")
    recommended = f"/recommended/{app_id}/"  # a review's URL: the author's profile + this
    parsed = [_review(block, recommended, subject, url) for block in blocks]
    next_url = None if kind == "merged" else _next_url(container, url)
    return ParsedPage(parsed, next_url, len(blocks), kind)


def _load(body: bytes, url: str) -> Any:
    """The answer's JSON, or PageError saying what the bytes are instead."""
    head = body[:512].lstrip(_LEADING)
    if not head:
        head = body.lstrip(_LEADING)[:512]
        if not head:
            raise PageError(f"empty answer ({len(body)} bytes): fetch it again", url)
    if head.startswith(b"<"):
        lowered = body[:65536].lower()
        if b"apphub_card" in lowered or "/homecontent" in url:
            raise PageError(COMMUNITY_REASON, url)
        if b"just a moment" in lowered or b"challenge-platform" in lowered:
            raise PageError(
                'a challenge page ("Just a moment...") instead of Steam\'s JSON: slow down and '
                "fetch it again",
                url,
            )
        raise PageError(
            "an HTML page where Steam's JSON reviews answer was expected (an error page?)", url
        )
    if not head.startswith((b"{", b"[")):
        raise PageError("not JSON (no `{` at the start): not a Steam reviews answer", url)
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise PageError(
            f"the answer is not valid JSON ({_short(exc)}): cut short or corrupted; fetch it again",
            url,
        ) from None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _merged_by_id(reviews: dict[Any, Any], url: str) -> list[Any]:
    """A merge keyed by review id has no order of its own: newest first by creation, then by id
    descending, as the API pages them."""
    try:
        # The usual merge, checked and sorted with C-level calls only: by id when creation
        # times tie (rare), then (a stable sort) newest first.
        blocks = list(reviews.values())
        created = list(map(_TIMESTAMP_CREATED, blocks))
        keys_are_ids = list(map(_RECOMMENDATION_ID, blocks)) == list(reviews)
        if keys_are_ids and set(map(type, created)) == _INT_ONLY:
            if len(set(created)) < len(created):
                blocks = list(map(reviews.__getitem__, sorted(reviews, key=int, reverse=True)))
            blocks.sort(key=_TIMESTAMP_CREATED, reverse=True)
            return blocks
    except (ValueError, TypeError, KeyError):
        pass  # read entry by entry below, which names what is wrong
    keyed = [_sort_key(key, block, url) for key, block in reviews.items()]
    keyed.sort(key=itemgetter(0, 1), reverse=True)
    return [block for _, _, block in keyed]


def _sort_key(key: Any, block: Any, url: str) -> tuple[int, int, Any]:
    """(creation time, id, review) of a merge's entry, read carefully; PageError when its key is
    not its id or it has no creation time."""
    if not isinstance(block, dict):
        raise PageError(f"review {key}: not a review object; nothing was kept", url)
    rid = _review_id(block, url)
    if rid != str(key):
        raise PageError(f"review {key}: holds review {rid}; nothing was kept", url)
    created = _timestamp(block.get("timestamp_created"), rid, "timestamp_created", url)
    return (created, int(rid), block)


def _app_id(data: dict[str, Any], url: str) -> str:
    """The app id: the envelope's `appid`, else the URL's (`/appreviews/ID`, `appid=ID`,
    `/app/ID`)."""
    value = data.get("appid")
    if value is not None:
        if type(value) is int and value > 0:
            return str(value)
        if isinstance(value, str) and _digits(value) and int(value) > 0:
            return str(int(value))
        raise PageError(f"the answer's appid {value!r} is not an app id", url)
    parts = urlsplit(url)
    found = _APP_IN_PATH.search(parts.path) or _APP_IN_QUERY.search(parts.query)
    if found and int(found.group(1)) > 0:
        return str(int(found.group(1)))
    raise PageError(
        "no app id: the answer does not name its game and the URL has none "
        "(/appreviews/ID, appid=ID or /app/ID)",
        url,
    )


def _next_url(container: dict[str, Any], url: str) -> str | None:
    """The same URL with the answer's cursor, or None when the API repeats the one it was sent."""
    cursor = container.get("cursor")
    if not isinstance(cursor, str) or not cursor:
        raise PageError("the page has reviews but no cursor to the next page: cannot walk on", url)
    if not cursor.isascii() or not cursor.isprintable():
        raise PageError(f"the answer's cursor {cursor!r} is not a Steam cursor", url)
    sent, path, params, position = _sent_cursor(url)
    if cursor == sent:
        return None
    param = "cursor=" + quote(cursor, safe="")
    if position >= 0:
        params[position] = param
    else:
        params.append(param)
    return f"{path}?{'&'.join(params)}"


def _sent_cursor(url: str) -> tuple[str, str, list[str], int]:
    """The cursor a page was fetched with (`*`, the first page's, when the URL has none), the
    URL's path and query parameters, and the cursor's place among them (-1: none)."""
    path, _, query = url.partition("#")[0].partition("?")
    params = query.split("&") if query else []
    sent = FIRST_CURSOR
    position = -1
    for index, param in enumerate(params):
        name, _, value = param.partition("=")
        if unquote(name) == "cursor":
            # `unquote`, not form decoding: a raw `+` in a cursor is the cursor's own `+`.
            sent, position = unquote(value), index
    return sent, path, params, position


def _review(block: Any, recommended: str, subject: Subject, url: str) -> Review:
    """One review object as a Review; PageError when a part it must have is missing."""
    # Every review the APIs have sent has all these parts with these types: read them in one
    # go (the parse's cost is per review). Anything else (a part missing, ids as numbers,
    # counts as strings) goes through the careful reading, which names what is wrong.
    try:
        (rid, writer, created, updated, voted_up, votes_up, votes_funny, text, free, early,
         purchase, comments, language) = _USUAL_PARTS(block)  # fmt: skip
        steamid, forever = _AUTHOR_PARTS(writer)
        at_review = writer.get("playtime_at_review")
        usual = (
            type(text) is str  # (ids and language: their str methods below fail on others)
            and type(created) is type(updated) is type(votes_up) is type(votes_funny) is int
            and type(comments) is type(forever) is int
            and type(voted_up) is type(free) is type(early) is type(purchase) is bool
            and rid.isdigit()
            and rid.isascii()
            and len(rid) <= _MAX_DIGITS
            and steamid.isdigit()
            and steamid.isascii()
            and len(steamid) <= _MAX_DIGITS
            and 0 < created <= _MAX_TIMESTAMP
            and 0 < updated <= _MAX_TIMESTAMP
            and votes_up | votes_funny | comments | forever >= 0  # ints: negative if one is
            and language.isascii()
            and (at_review is None or (type(at_review) is int and at_review >= 0))
        )
    except (KeyError, TypeError, AttributeError):
        usual = False
    if not usual:
        (rid, steamid, created, updated, voted_up, votes_up, votes_funny, text, free, early,
         purchase, comments, language, at_review, forever) = _careful(block, url)  # fmt: skip
    day = created // 86400  # _iso(created), inline: it is per review
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = _date(day)
    second = created % 86400
    published = date + _CLOCK_MINUTES[second // 60] + _CLOCK_SECONDS[second % 60]
    profile = _PROFILES + steamid
    # `Author(steamid, url)` and `Review(...)`, built without the class call's detour through C
    # and (Author) the frozen dataclass's per-field `object.__setattr__`, which cost a tenth of
    # the parse. Positional, in the record's field order (the contract's JSON key order), which
    # test_parser.py checks; tests/sites/test_saved_pages.py pins every field's value.
    author = _new(Author)
    _set_author_name(author, steamid)
    _set_author_url(author, profile + "/")
    review = _new(Review)
    _init_review(
        review,
        SITE,  # site
        rid,  # review_id
        profile + recommended,  # url
        subject,  # subject
        author,  # author
        published,  # published_at
        bbcode_text(text),  # text
        None,  # rating
        None,  # rating_scale
        "recommended" if voted_up else "not_recommended",  # recommendation
        [] if not (free or early) else _tags(free, early),  # tags
        None,  # is_spoiler
        False,  # is_preliminary
        None,  # progress
        {"helpful": votes_up, "funny": votes_funny},  # reactions
        votes_up,  # helpful_count
        None,  # sub_scores
        {  # extra
            "language": language,
            "playtime_at_review": at_review,
            "playtime_forever": forever,
            "received_for_free": free,
            "written_during_early_access": early,
            "steam_purchase": purchase,
            "timestamp_updated": (
                None if updated is None else published if updated == created else _iso(updated)
            ),
            "comment_count": comments,
            "reply": None if "developer_response" not in block else _reply(block, rid, url),
        },
    )
    return review


def _tags(free: bool | None, early: bool | None) -> list[str]:
    """`received_for_free`, `written_during_early_access` when true, in that order."""
    tags = []
    if free:
        tags.append("received_for_free")
    if early:
        tags.append("written_during_early_access")
    return tags


_Fields = tuple[
    str,  # review id
    str,  # steam id
    int,  # created
    int | None,  # updated
    bool,  # voted up
    int,  # votes up
    int,  # votes funny
    str,  # review text
    bool | None,  # received for free
    bool | None,  # written during early access
    bool | None,  # steam purchase
    int | None,  # comment count
    str | None,  # language
    int | None,  # playtime at review
    int | None,  # playtime forever
]


def _careful(block: Any, url: str) -> _Fields:
    """The review's parts read one by one: digit strings become numbers, a missing optional
    part is None, and what is missing or wrong raises PageError naming it."""
    if not isinstance(block, dict):
        raise PageError("a review is not an object; nothing from the page was kept", url)
    rid = _review_id(block, url)
    author = block.get("author")
    if not isinstance(author, dict):
        raise PageError(f"review {rid}: no author; nothing from the page was kept", url)
    steamid = author.get("steamid")
    if type(steamid) is int and steamid > 0:
        steamid = str(steamid)
    elif not (isinstance(steamid, str) and _digits(steamid)):
        raise PageError(f"review {rid}: no author steamid; nothing from the page was kept", url)
    created = _timestamp(block.get("timestamp_created"), rid, "timestamp_created", url)
    updated = block.get("timestamp_updated")
    if updated is not None:
        updated = _timestamp(updated, rid, "timestamp_updated", url)
    voted_up = block.get("voted_up")
    if type(voted_up) is not bool:
        raise PageError(f"review {rid}: no voted_up verdict; nothing from the page was kept", url)
    votes_up = _count(block.get("votes_up"), rid, "votes_up", url)
    votes_funny = _count(block.get("votes_funny"), rid, "votes_funny", url)
    if votes_up is None or votes_funny is None:
        missing = "votes_up" if votes_up is None else "votes_funny"
        raise PageError(f"review {rid}: no {missing}; nothing from the page was kept", url)
    text = block.get("review")
    if not isinstance(text, str):
        raise PageError(f"review {rid}: no review text; nothing from the page was kept", url)
    flags = []
    for name in ("received_for_free", "written_during_early_access", "steam_purchase"):
        value = block.get(name)
        if value is not None and type(value) is not bool:
            raise PageError(f"review {rid}: {name} {value!r} is not true or false", url)
        flags.append(value)
    language = block.get("language")
    if language is not None and not (isinstance(language, str) and language.isascii()):
        raise PageError(f"review {rid}: language {language!r} is not a name", url)
    return (
        rid,
        steamid,
        created,
        updated,
        voted_up,
        votes_up,
        votes_funny,
        text,
        flags[0],
        flags[1],
        flags[2],
        _count(block.get("comment_count"), rid, "comment_count", url),
        language,
        _count(author.get("playtime_at_review"), rid, "playtime_at_review", url),
        _count(author.get("playtime_forever"), rid, "playtime_forever", url),
    )


_DAYS: dict[int, str] = {}
"""Day number -> `YYYY-MM-DD`: Steam's reviews span some 8,000 days so far."""
_MAX_CACHED_DAYS = 50_000
_CLOCK_MINUTES = tuple("T%02d:%02d:" % divmod(minute, 60) for minute in range(1440))  # noqa: UP031
_CLOCK_SECONDS = tuple("%02dZ" % second for second in range(60))  # noqa: UP031


def _iso(timestamp: int) -> str:
    """A Unix time as UTC `YYYY-MM-DDTHH:MM:SSZ`, from cached parts (a page's reviews share
    days; formatting every time costs more than the rest of a review's fields)."""
    day = timestamp // 86400
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = _date(day)
    second = timestamp % 86400
    return date + _CLOCK_MINUTES[second // 60] + _CLOCK_SECONDS[second % 60]


def _date(day: int) -> str:
    """The UTC date of a day number since 1970-01-01 (cached by the callers in `_DAYS`)."""
    if len(_DAYS) >= _MAX_CACHED_DAYS:
        _DAYS.clear()  # odd input (dates over centuries) must not grow the cache without end
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86400))


def _review_id(block: dict[str, Any], url: str) -> str:
    rid = block.get("recommendationid")
    if isinstance(rid, str) and _digits(rid):
        return rid
    if type(rid) is int and rid > 0:
        return str(rid)
    raise PageError(
        f"a review has no recommendationid ({rid!r}); nothing from the page was kept", url
    )


def _digits(text: str) -> bool:
    """A number written in ASCII digits, short enough to be one of Steam's."""
    return text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS


def _timestamp(value: Any, rid: str, name: str, url: str) -> int:
    """A Unix time in seconds (a number or a string of digits), within dates that exist."""
    if isinstance(value, str) and _digits(value):
        value = int(value)
    if type(value) is not int or not 0 < value <= _MAX_TIMESTAMP:
        raise PageError(f"review {rid}: {name} {value!r} is not a Unix time", url)
    return value


def _count(value: Any, rid: str, name: str, url: str) -> int | None:
    """A count (a number or a string of digits), or None when absent."""
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str) and _digits(value):
        return int(value)
    if value is None:
        return None
    raise PageError(f"review {rid}: {name} {value!r} is not a count", url)


def _reply(block: dict[str, Any], rid: str, url: str) -> dict[str, str | None] | None:
    """The developer's response: `{"text", "published_at"}`, or None when there is none."""
    response = block.get("developer_response")
    if response is None:
        return None
    if not isinstance(response, str):
        raise PageError(f"review {rid}: developer_response is not text", url)
    text = bbcode_text(response)
    if not text:
        return None
    when = block.get("timestamp_dev_responded")
    published = (
        None
        if when is None or when == 0
        else _iso(_timestamp(when, rid, "timestamp_dev_responded", url))
    )
    return {"text": text, "published_at": published}
