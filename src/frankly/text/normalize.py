"""Text normalisation shared by training and inference.

The same function runs on training data and on user text, so the models see one
distribution: user handles become ``@user`` and links become ``http`` (as in
TweetEval), HTML entities are decoded and whitespace is collapsed.

:func:`normalize_with_offsets` returns the same string plus, for every character of it,
the span of the original text it came from, so evidence found in the normalised text can
be shown at its place in the user's text.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Callable

from frankly.text.people import (People, first_names, gendered_pattern, is_name,
                                 mask_names, name_pattern, neutral_gender, neutral_word)

# NUL is excluded from links so the fast model can normalise many texts joined by NUL at once.
_URL = re.compile(r"(?:[hH][tT][tT][pP][sS]?://|[wW][wW][wW]\.)[^\s\x00]+")
_URL_LOWER = re.compile(r"(?:https?://|www\.)[^\s\x00]+")  # literal prefix: much faster
_HANDLE = re.compile(r"@(?<![\w@]@)\w{1,30}")  # '@' first lets the engine skip ahead
# The pattern html.unescape itself uses, so unescaping match by match gives its result.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_SPACES = re.compile(r"\s+")
# Pictographs, dingbats and arrows, each with its skin-tone, variation-selector and
# zero-width-joiner trailers. The transformer's vocabulary has no emoji (every one reads as
# the same unknown token), so for it they are spelt out by their Unicode names.
_EMOJI = re.compile("([\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55\u2763-\u2764])"
                    "[\U0001F3FB-\U0001F3FF\uFE0F\u200D]*"
                    # the same emoji again: a run of one emoji is spelt at most 3 times
                    "(?:\\1[\U0001F3FB-\U0001F3FF\uFE0F\u200D]*)*")
MAX_EMOJI_RUN = 3  # "😍😍😍😍😍" reads as three: more repeats add tokens, not meaning
# Emoticons as words, only between spaces (so "http://" is untouched). Ours: the common
# Western emoticons and what they show.
_EMOTICONS = {
    ":)": "smile", ":-)": "smile", ":]": "smile", "=)": "smile", ";)": "wink", ";-)": "wink",
    ":D": "big smile", ":-D": "big smile", "xD": "laughing", "XD": "laughing",
    ":P": "tongue out", ":-P": "tongue out", ":p": "tongue out",
    ":(": "frown", ":-(": "frown", ":[": "frown", "=(": "frown", ":'(": "crying face",
    ":/": "unsure face", ":-/": "unsure face", ":|": "straight face", ":-|": "straight face",
    "<3": "heart", "</3": "broken heart",
}
_EMOTICON = re.compile(r"(?<!\S)(?:" + "|".join(
    re.escape(e) for e in sorted(_EMOTICONS, key=len, reverse=True)) + r")(?!\S)")


@lru_cache(maxsize=4096)
def _emoji_words(emoji: str) -> str:
    return " " + unicodedata.name(emoji, "symbol").lower() + " "


def _spell_emoji(m: re.Match[str]) -> str:
    emoji = m.group(1)
    repeats = min(m.group(0).count(emoji), MAX_EMOJI_RUN)
    return _emoji_words(emoji) * repeats


def _spell_emoticon(m: re.Match[str]) -> str:
    return " " + _EMOTICONS[m.group(0)] + " "


def normalize(text: str, lower: bool = False, emoji: bool = False,
              people: People | None = None) -> str:
    """Return the text as the models see it (lower-cased too when ``lower``; emoji and
    emoticons spelt out as words when ``emoji``; first names and gendered words read as
    ``people`` says, see :mod:`frankly.text.people`).

    >>> normalize("@acme_help thanks!!\\n see https://t.co/x1 &amp; more ")
    '@user thanks!! see http & more'
    >>> normalize("arrived today 😍 :)", emoji=True)
    'arrived today smiling face with heart-shaped eyes smile'
    """
    if not text.isascii():
        # Lone surrogates (from broken UTF-16 upstream) cannot be encoded: make them "?".
        text = text.encode("utf-8", "replace").decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    if people is not None and people.names:  # before lower-casing: names are capitalised
        text = mask_names(text, people.names)
    if lower:
        text = _URL_LOWER.sub("http", text.lower())
    else:
        text = _URL.sub("http", text)
    if "@" in text:
        text = _HANDLE.sub("@user", text)
    if people is not None and people.neutral_gender:
        text = neutral_gender(text, lowered=lower)
    if emoji:
        if not text.isascii():
            text = _EMOJI.sub(_spell_emoji, text)
        text = _EMOTICON.sub(_spell_emoticon, text)
    return " ".join(text.split())


class Mapped:
    """A normalised text and, per character, the ``[start, end)`` span of the original."""

    __slots__ = ("text", "starts", "ends")

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self.text, self.starts, self.ends = text, starts, ends

    @classmethod
    def identity(cls, text: str) -> "Mapped":
        """``text`` unchanged: every character maps to itself."""
        return cls(text, list(range(len(text))), list(range(1, len(text) + 1)))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind normalised characters ``[start, end)`` (end > start)."""
        return self.starts[start], self.ends[end - 1]

    def sub(self, pattern: re.Pattern[str],
            repl: Callable[[re.Match[str]], str | None]) -> "Mapped":
        """Replace every match (but those for which ``repl`` returns None); each
        replacement character maps to the whole match."""
        text, starts, ends = self.text, self.starts, self.ends
        out: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        for m in pattern.finditer(text):
            r = repl(m)
            if r is None:
                continue
            a, b = m.span()
            out.append(text[pos:a])
            new_starts += starts[pos:a]
            new_ends += ends[pos:a]
            out.append(r)
            new_starts += [starts[a]] * len(r)
            new_ends += [ends[b - 1]] * len(r)
            pos = b
        if pos == 0:
            return self
        out.append(text[pos:])
        new_starts += starts[pos:]
        new_ends += ends[pos:]
        return Mapped("".join(out), new_starts, new_ends)

    def lower(self) -> "Mapped":
        lowered = self.text.lower()
        if len(lowered) == len(self.text):  # lower() only ever lengthens ("İ" -> "i̇")
            return Mapped(lowered, self.starts, self.ends)
        pieces = [c.lower() for c in self.text]
        starts = [s for s, p in zip(self.starts, pieces) for _ in p]
        ends = [e for e, p in zip(self.ends, pieces) for _ in p]
        return Mapped("".join(pieces), starts, ends)


def normalize_with_offsets(text: str, lower: bool = False, emoji: bool = False,
                           people: People | None = None) -> Mapped:
    """:func:`normalize` plus the original span of every output character.

    >>> m = normalize_with_offsets("see  https://x.io/a &amp; b")
    >>> m.text, m.span(4, 8), m.span(9, 10)
    ('see http & b', (5, 19), (20, 25))
    """
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")  # one char for one char
    mapped = Mapped.identity(text)
    if "&" in text:
        mapped = mapped.sub(_CHARREF, lambda m: html.unescape(m.group(0)))
    if people is not None and people.names:
        names, placeholder = first_names(), people.names
        mapped = mapped.sub(name_pattern(),
                            lambda m: placeholder if is_name(m.group(0), names) else None)
    if lower:
        mapped = mapped.lower().sub(_URL_LOWER, lambda m: "http")
    else:
        mapped = mapped.sub(_URL, lambda m: "http")
    if "@" in mapped.text:
        mapped = mapped.sub(_HANDLE, lambda m: "@user")
    if people is not None and people.neutral_gender:
        mapped = mapped.sub(gendered_pattern(lowered=lower),
                            lambda m: neutral_word(m.group(0)))
    if emoji:
        if not mapped.text.isascii():
            mapped = mapped.sub(_EMOJI, _spell_emoji)
        mapped = mapped.sub(_EMOTICON, _spell_emoticon)
    mapped = mapped.sub(_SPACES, lambda m: " ")
    text, starts, ends = mapped.text, mapped.starts, mapped.ends
    # str.split() and \s agree on what is whitespace, so stripping one space at each end
    # leaves exactly " ".join(text.split()).
    a = 1 if text.startswith(" ") else 0
    b = len(text) - 1 if text.endswith(" ") and len(text) > a else len(text)
    return Mapped(text[a:b], starts[a:b], ends[a:b])
