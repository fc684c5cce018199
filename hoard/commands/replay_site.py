"""`hoard replay-site [DIR] [--port N]`: saved pages served locally, to crawl without the site."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reviewhoard.hoard.errors import UsageError
from reviewhoard.replay.manifest import ManifestError
from reviewhoard.replay.server import ReplaySite


def default_dir() -> str:
    """The saved pages of every site: $REVIEW_FIXTURES, else ../shared/fixtures."""
    return os.environ.get("REVIEW_FIXTURES") or str(Path("..") / "shared" / "fixtures")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("directory", metavar="[DIR]", required=False)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")  # fmt: skip
def command(directory: str | None, port: int) -> int:
    """Serve saved pages on 127.0.0.1 at the paths they came from, until Ctrl-C.

    DIR holds the pages and a manifest.json mapping paths to files, with optional faults per
    path (delay, 429/503 with Retry-After, 500, dropped connection, truncated body); see
    replay/manifest.py. Without a manifest, DIR is taken for a folder of the sites' saved pages
    (one site's, or one with a folder per site; default $REVIEW_FIXTURES or
    ../shared/fixtures) and each page is served where it came from, as its site declares.

    The request log is at /_replay/log (JSON). Crawl it with:

    \b
      hoard replay-site --port 8765 &
      hoard crawl SITE --FEED ID --base-url http://127.0.0.1:8765 -s DOWNLOAD_DELAY=0
    """
    folder = Path(directory or default_dir())
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder; pass the folder of saved pages as DIR")
    try:
        site = ReplaySite(folder, port=port)
    except ManifestError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); try --port 0"
        ) from None
    click.echo(f"replay site for {folder} at {site.url}  (Ctrl-C to stop)", err=False)
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()
    return 0
