"""Steam's feeds: where a crawl starts and how it pages. Parsing is `parser.py`.

A game's reviews (`app` ids) come from the Web API's `IUserReviewsService/GetAppReviews`, newest
first by creation (`filter` 1, recent), every language, every purchase type, off-topic review
bombs included, 100 a page. Pages follow a cursor: the first is `*`, each answer carries the next
(URL-encoded, it holds `+`, `/` and `=`); the walk stops on a page without reviews or when the
API repeats the cursor it was sent. Walked to its end it shows every review of the game.

The store's `appreviews` endpoint that served the same reviews was switched off on 2026-10-22;
`reviews_url(..., endpoint=STORE_APPREVIEWS)` still builds its URLs, for replaying old captures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from reviewhoard.sites.site import Feed

API_URL = "https://api.steampowered.com"
STORE_URL = "https://store.steampowered.com"
COMMUNITY_URL = "https://steamcommunity.com"
GET_APP_REVIEWS = f"{API_URL}/IUserReviewsService/GetAppReviews/v1/"
"""The reviews API (2026-10-22 on)."""
STORE_APPREVIEWS = f"{STORE_URL}/appreviews/"
"""The store's reviews endpoint, retired on 2026-10-22 (`/appreviews/APPID?json=1`)."""
REVIEWS_ENDPOINT = GET_APP_REVIEWS
"""The endpoint crawls use."""
FIRST_CURSOR = "*"
PER_PAGE = 100
APP_ID = re.compile(r"^[0-9]{1,10}$")


def reviews_url(
    app_id: int | str, cursor: str = FIRST_CURSOR, endpoint: str = REVIEWS_ENDPOINT
) -> str:
    """A page of a game's reviews: newest first by creation, all languages and purchase types,
    off-topic reviews included, 100 a page, from `cursor` (`*` is the first page).

    `endpoint` is `GET_APP_REVIEWS` (app id as a parameter) or the retired `STORE_APPREVIEWS`
    (app id in the path, its own parameter names).
    """
    encoded = cursor_param(cursor)
    if endpoint.startswith(STORE_APPREVIEWS):
        return (
            f"{endpoint}{app_id}?json=1&filter=recent&language=all&purchase_type=all"
            f"&filter_offtopic_activity=0&num_per_page={PER_PAGE}&cursor={encoded}"
        )
    return (
        f"{endpoint}?appid={app_id}&filter=1&languages[0]=all&purchase_type=1"
        f"&filter_offtopic_activity=0&num_per_page={PER_PAGE}&cursor={encoded}"
    )


def cursor_param(cursor: str) -> str:
    """A cursor as a URL parameter value: `+`, `/` and `=` encoded (`*` stays as the API shows
    it on the first page)."""
    return FIRST_CURSOR if cursor == FIRST_CURSOR else quote(cursor, safe="")


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """One feed per `app` id (`app:620`); ValueError names a value that is no app id."""
    feeds: list[Feed] = []
    for value in args.get("app", ()):
        app_id = value.strip()
        if not APP_ID.match(app_id) or int(app_id) == 0:
            raise ValueError(
                f"app ids are numbers (as in store.steampowered.com/app/620/), not {value!r}"
            )
        app_id = str(int(app_id))
        feeds.append(
            Feed(
                key=f"app:{app_id}",
                start_url=reviews_url(app_id),
                subject_type="game",
                subject_id=app_id,
                walkable=True,
            )
        )
    return feeds
