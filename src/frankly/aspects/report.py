"""Aspect counts over many texts: mentions, share negative and net sentiment per category
and per term (what ``frankly aspects`` prints and writes)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any, Iterable

from frankly.aspects.taxonomy import term_key
from frankly.result import Result

FIELDS = ("level", "category", "term", "mentions", "texts", "positive", "neutral", "negative",
          "share_negative", "net_sentiment")


@dataclass
class Tally:
    """Mentions of one category or term, by label."""

    mentions: int = 0
    texts: int = 0
    labels: collections.Counter = field(default_factory=collections.Counter)
    forms: collections.Counter = field(default_factory=collections.Counter)

    @property
    def share_negative(self) -> float:
        return self.labels["negative"] / self.mentions if self.mentions else 0.0

    @property
    def net(self) -> float:
        """(positive - negative) / mentions: +1 all praise, -1 all complaint."""
        if not self.mentions:
            return 0.0
        return (self.labels["positive"] - self.labels["negative"]) / self.mentions


@dataclass
class AspectReport:
    texts: int = 0
    with_aspects: int = 0
    categories: dict[str, Tally] = field(default_factory=dict)
    terms: dict[tuple[str, str], Tally] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        self.texts += 1
        if not result.aspects:
            return
        self.with_aspects += 1
        seen_categories: set[str] = set()
        seen_terms: set[tuple[str, str]] = set()
        for a in result.aspects:
            key = (a.category, term_key(a.term))
            for tally, first in ((self.categories.setdefault(a.category, Tally()),
                                  a.category not in seen_categories),
                                 (self.terms.setdefault(key, Tally()), key not in seen_terms)):
                tally.mentions += 1
                tally.texts += first
                tally.labels[a.label] += 1
            self.terms[key].forms[" ".join(a.term.split())] += 1
            seen_categories.add(a.category)
            seen_terms.add(key)

    def extend(self, results: Iterable[Result]) -> "AspectReport":
        for r in results:
            self.add(r)
        return self

    def rows(self, min_mentions: int = 1) -> list[dict[str, Any]]:
        """One row per category (most mentioned first), each followed by its terms."""
        out = []
        for category, tally in sorted(self.categories.items(),
                                      key=lambda kv: (-kv[1].mentions, kv[0])):
            out.append(_row("category", category, "", tally))
            terms = [(key, t) for key, t in self.terms.items()
                     if key[0] == category and t.mentions >= min_mentions]
            for (_, _), t in sorted(terms, key=lambda kv: (-kv[1].mentions, kv[0][1])):
                out.append(_row("term", category, t.forms.most_common(1)[0][0], t))
        return out


def _row(level: str, category: str, term: str, t: Tally) -> dict[str, Any]:
    return {"level": level, "category": category, "term": term, "mentions": t.mentions,
            "texts": t.texts, "positive": t.labels["positive"], "neutral": t.labels["neutral"],
            "negative": t.labels["negative"], "share_negative": round(t.share_negative, 4),
            "net_sentiment": round(t.net, 4)}
