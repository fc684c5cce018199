"""The toy site's one feed: a thing's reviews, `?page=N`, while there is an `a.next`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reviewhoard.sites.site import Feed

BASE = "https://toy.example"


def make_feeds(args: Mapping[str, Sequence[str]]) -> list[Feed]:
    """One feed per thing id; ValueError for an id that is not a number."""
    feeds = []
    for thing in args.get("thing", ()):
        if not thing.isdigit():
            raise ValueError(f"thing ids are numbers, not {thing!r}")
        feeds.append(
            Feed(
                key=f"thing:{thing}",
                start_url=f"{BASE}/things/{thing}/reviews?page=1",
                subject_type="thing",
                subject_id=thing,
                walkable=True,
            )
        )
    return feeds
