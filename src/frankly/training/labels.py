"""Read a user's gold labels: the usual names, TweetEval's 0/1/2, or a map the user gives.

>>> to_label = LabelMapper({"good": "positive", "bad": "neg"})
>>> [to_label(v) for v in ("Positive", "neu", 0, 2.0, "good", "BAD", "meh")]
['positive', 'neutral', 'negative', 'positive', 'positive', 'negative', None]
"""

from __future__ import annotations

from typing import Any, Mapping

from frankly.errors import InputError
from frankly.result import LABELS

# Understood case-insensitively. 0/1/2 follow TweetEval (0 negative, 1 neutral, 2 positive).
ALIASES: dict[str, str] = {
    "negative": "negative", "neg": "negative", "0": "negative",
    "neutral": "neutral", "neu": "neutral", "1": "neutral",
    "positive": "positive", "pos": "positive", "2": "positive",
}
KNOWN_HELP = "positive/negative/neutral, pos/neg/neu or 0/1/2 (0 negative, 1 neutral, 2 positive)"


def _key(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, str)):
        return str(value).strip().lower()
    return None


def parse_label_map(spec: str) -> dict[str, str]:
    """Parse ``'a=positive,b=negative'`` into ``{"a": "positive", "b": "negative"}``.

    Targets may be any known name (``pos``, ``2``...). Raises InputError on bad syntax.
    """
    out: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        source, sep, target = item.rpartition("=")
        source, target = source.strip(), target.strip()
        if not sep or not source:
            raise InputError(f"bad label map entry {item.strip()!r}: expected NAME=LABEL, "
                             f"e.g. 'good=positive,bad=negative'")
        label = ALIASES.get(target.lower())
        if label is None:
            raise InputError(f"bad label map entry {item.strip()!r}: {target!r} is not one "
                             f"of {', '.join(LABELS)}")
        out[source] = label
    if not out:
        raise InputError("empty label map: expected NAME=LABEL pairs, e.g. 'good=positive'")
    return out


class LabelMapper:
    """Turns a label value into ``negative``, ``neutral`` or ``positive``, or None if unknown.

    ``label_map`` entries (case-insensitive) come before the built-in names.
    """

    def __init__(self, label_map: Mapping[str, str] | None = None) -> None:
        self.table = dict(ALIASES)
        for source, target in (label_map or {}).items():
            label = ALIASES.get(str(target).strip().lower())
            if label is None:
                raise InputError(f"label map: {target!r} is not one of {', '.join(LABELS)}")
            self.table[str(source).strip().lower()] = label

    def __call__(self, value: Any) -> str | None:
        key = _key(value)
        return None if key is None else self.table.get(key)
