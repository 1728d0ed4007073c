"""Text normalisation shared by training and inference.

The same function runs on training data and on user text, so the models see one
distribution: user handles become ``@user`` and links become ``http`` (as in
TweetEval), HTML entities are decoded and whitespace is collapsed.
"""

from __future__ import annotations

import html
import re

# NUL is excluded from links so the fast model can normalise many texts joined by NUL at once.
_URL = re.compile(r"(?:[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.)[^\s\x00]+")
_URL_LOWER = re.compile(r"(?:https?://|www\.)[^\s\x00]+")  # literal prefix: much faster
_HANDLE = re.compile(r"@(?<![\w@]@)\w{1,30}")  # '@' first lets the engine skip ahead


def normalize(text: str, lower: bool = False) -> str:
    """Return the text as the models see it (lower-cased too when ``lower``).

    >>> normalize("@acme_help thanks!!\\n see https://t.co/x1 &amp; more ")
    '@user thanks!! see http & more'
    """
    if not text.isascii():
        # Lone surrogates (from broken UTF-16 upstream) cannot be encoded: make them "?".
        text = text.encode("utf-8", "replace").decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    if lower:
        text = _URL_LOWER.sub("http", text.lower())
    else:
        text = _URL.sub("http", text)
    if "@" in text:
        text = _HANDLE.sub("@user", text)
    return " ".join(text.split())
