"""What every site's parser shares: the page result (`ParsedPage`), the one error type
(`PageError`) and the clean-text rules (`parsers.text`).

The parsers themselves live in their sites' folders (`sites/<key>/parser.py`): pure functions,
bytes and URL in, reviews and the next page's URL out. A parser never builds a Request, reads
settings, touches files or the network.
"""

from __future__ import annotations

from reviewhoard.parsers.errors import PageError
from reviewhoard.parsers.page import ParsedPage

__all__ = ["PageError", "ParsedPage"]
