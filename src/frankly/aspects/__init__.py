"""Aspects: what a text talks about, and the sentiment towards each thing.

How a text's aspects are found:

1. **Terms.** A model with aspect heads (the shipped accurate model) tags each token as
   the beginning, inside or outside of an aspect term (``frankly.aspects.spans``); other
   models (fast, a user's own) match the taxonomy's seed terms instead. Terms the caller
   names (``targets``) are added at every occurrence, whether or not they were found.
2. **Sentiment towards each term.** With aspect heads, the polarity head's token scores
   averaged over the term's tokens (the encoder's states there already read the
   context); otherwise the model's word scores pooled over the term's sentence.
   Calibrated (a temperature fitted on dev data) into scores over the three labels.
3. **Category.** The taxonomy's (``frankly.aspects.taxonomy``): a seed term's category, the
   most similar seed's by static word vectors, or "other".
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np

from frankly.aspects.seeds import SeedMatcher
from frankly.aspects.spans import tag_spans
from frankly.aspects.taxonomy import OTHER, Taxonomy, default_seeds, term_key
from frankly.calibration import softmax
from frankly.errors import InputError
from frankly.result import Aspect

if TYPE_CHECKING:
    from frankly.models.base import BaseModel, WordScores
    from frankly.text.sentences import Span

__all__ = ["AspectReader", "Taxonomy", "TokenAspects", "OTHER", "check_targets",
           "default_taxonomy"]

MAX_TARGETS = 100  # terms one call may ask about
MAX_TARGET_CHARS = 100
MAX_ASPECTS = 50   # aspects listed per text (a long document keeps its first ones)
# Words for the reviewed thing as a whole, not an aspect of it: the tagger's most common
# false finds on the SemEval-2014 dev split ("the restaurant", "this laptop"). Dropped from
# extracted terms (not from targets): extraction F1 +0.01 restaurants, +0.04 laptops there.
ENTITY_WORDS = frozenset(
    "restaurant restaurants place places laptop laptops computer computers notebook "
    "notebooks netbook netbooks pc pcs machine machines product products device devices "
    "unit company".split())


@dataclass(frozen=True)
class TokenAspects:
    """A model's aspect heads on one text: per token, its span in the text given to the
    model (``(-1, -1)`` for special tokens), tag logits (O, B, I) and polarity logits
    (over the model's classes)."""

    spans: np.ndarray     # (n_tokens, 2)
    tags: np.ndarray      # (n_tokens, 3)
    polarity: np.ndarray  # (n_tokens, n_classes)

    def shifted(self, offset: int) -> "TokenAspects":
        spans = np.where(self.spans >= 0, self.spans + offset, self.spans)
        return TokenAspects(spans, self.tags, self.polarity)


def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy (``resources/aspects/taxonomy.tsv``) with the shipped vectors."""
    from frankly.aspects.vectors import default_vectors

    return Taxonomy(default_seeds(), vectors=default_vectors())


def taxonomy_from(value: object) -> Taxonomy:
    """What ``Analyzer(aspects=...)`` asks for: True, a Taxonomy, a mapping of category ->
    seed terms, or a file of them (JSON, CSV or TSV)."""
    if value is True:
        return default_taxonomy()
    if isinstance(value, Taxonomy):
        return value
    from frankly.aspects.vectors import default_vectors

    if isinstance(value, Mapping):
        return Taxonomy(value, vectors=default_vectors())
    if isinstance(value, (str, Path)):
        return Taxonomy.from_file(value, vectors=default_vectors())
    raise InputError(f"aspects must be True, False, a Taxonomy, a mapping of category -> "
                     f"seed terms or a taxonomy file, got {type(value).__name__}")


def check_targets(targets: object) -> tuple[str, ...]:
    """The caller's target terms, validated (a clear InputError otherwise)."""
    if targets is None:
        return ()
    if isinstance(targets, str) or not isinstance(targets, Iterable):
        raise InputError(f"targets must be a list of terms such as ['battery', 'screen'], "
                         f"got {type(targets).__name__} {str(targets)[:40]!r}")
    out = []
    for t in targets:
        if not isinstance(t, str) or not t.strip():
            raise InputError(f"each target must be a non-empty string, got {t!r}")
        if len(t) > MAX_TARGET_CHARS:
            raise InputError(f"a target may have at most {MAX_TARGET_CHARS} characters, "
                             f"got {len(t)}")
        if t.strip() not in out:
            out.append(t.strip())
    if len(out) > MAX_TARGETS:
        raise InputError(f"at most {MAX_TARGETS} targets per call, got {len(out)}")
    return tuple(out)


def _pattern(term: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive occurrences of a term (spaces match any whitespace)."""
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


class AspectReader:
    """Finds the aspects of texts already read by a sentiment model."""

    def __init__(self, taxonomy: Taxonomy, model: "BaseModel") -> None:
        self.taxonomy = taxonomy
        self.model = model
        self.temperature = float(model.config.get("aspect_temperature", 1.0))
        self._seed_matcher: SeedMatcher | None = None

    def _seeds(self) -> SeedMatcher:
        """The taxonomy's seed terms, ready to find in text."""
        if self._seed_matcher is None:
            self._seed_matcher = SeedMatcher(t for ts in self.taxonomy.seeds.values()
                                             for t in ts)
        return self._seed_matcher

    def read(self, text: str, words: "WordScores | None", sentences: Sequence[Span],
             window: tuple[int, int], targets: Sequence[str] = ()
             ) -> list[tuple[str, int, int, list[float]]]:
        """``(source, start, end, probabilities)`` of each aspect of ``text`` inside
        ``window`` (the part of the text ``words`` scored), unsorted."""
        lo, hi = window
        tokens: TokenAspects | None = words.aspects if words is not None else None
        found: list[tuple[str, int, int]] = []
        for target in targets:
            found += [("target", m.start(), m.end())
                      for m in _pattern(target).finditer(text, lo, hi)]
        taken = [(a, b) for _, a, b in found]
        # The seed terms are always looked for; with aspect heads the tagger's terms come
        # first and a seed adds only where it overlaps none (on the SemEval-2014 dev split
        # the seeds lifted recall by 0.15-0.18 at about the same precision).
        extracted = []
        if tokens is not None:
            valid = tokens.spans[:, 0] >= 0
            spans = [tuple(s) if ok else None for s, ok in zip(tokens.spans.tolist(), valid)]
            extracted = [(a, b) for a, b in tag_spans(tokens.tags.argmax(1).tolist(), spans,
                                                      text)
                         if term_key(text[a:b]) not in ENTITY_WORDS]
        for a, b in self._seeds().find(text, lo, hi):
            inside = [(x, y) for x, y in extracted if a < y and x < b]
            if not inside:
                extracted.append((a, b))
            elif all(a <= x and y <= b for x, y in inside):  # "battery" in "battery life"
                extracted = [s for s in extracted if s not in inside] + [(a, b)]
        for a, b in extracted:
            if not any(a < y and x < b for x, y in taken):
                found.append(("extracted", a, b))
        out = []
        for source, a, b in found[:MAX_ASPECTS]:
            probs = self._probabilities(a, b, words, tokens, sentences)
            if probs is not None:
                out.append((source, a, b, probs))
        return out

    def _probabilities(self, a: int, b: int, words: "WordScores | None",
                       tokens: TokenAspects | None, sentences: Sequence[Span]
                       ) -> list[float] | None:
        if tokens is not None:
            spans = tokens.spans
            inside = (spans[:, 0] >= 0) & (spans[:, 0] < b) & (spans[:, 1] > a)
            if inside.any():
                return softmax(tokens.polarity[inside].mean(0)[None, :],
                               self.temperature)[0].tolist()
        if words is None or not len(words.spans):
            return None
        k = bisect.bisect_right(sentences, a, key=lambda s: s.start) - 1
        start, end = ((sentences[k].start, sentences[k].end) if k >= 0 and a < sentences[k].end
                      else (a, b))
        mask = (words.spans[:, 0] < end) & (words.spans[:, 1] > start)
        if not mask.any():
            return None
        logits = words.pooled(words.raw[mask].sum(0), float(words.counts[mask].sum()),
                              self.model.pool_power)
        return self.model.calibrate(logits[None, :])[0].tolist()

    def aspects(self, text: str, found: list[tuple[str, int, int, list[float]]]
                ) -> tuple[Aspect, ...]:
        """The Aspects of one text from :meth:`read`'s output (of all its readings)."""
        if not found:
            return ()
        unique = {(a, b): (source, a, b, probs) for source, a, b, probs in found}
        ordered = sorted(unique.values(), key=lambda f: (f[1], f[2]))[:MAX_ASPECTS]
        terms = [text[a:b] for _, a, b, _ in ordered]
        categories = self.taxonomy.categories_of(terms)
        classes = self.model.classes_
        out = []
        for (source, a, b, row), term, category in zip(ordered, terms, categories):
            top = max(range(len(row)), key=row.__getitem__)
            out.append(Aspect(term=term, start=a, end=b, category=category,
                              label=classes[top], scores=dict(zip(classes, row)),
                              source=source))
        return tuple(out)
