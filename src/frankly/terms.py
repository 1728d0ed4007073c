"""Brand terms: words whose sentiment the user fixes without retraining.

A product named "Killer Queen", a game called "War Zone" or "sick" meaning great: the user
declares each term as positive, negative, neutral or a signed weight, in a file or with
``Analyzer(terms=...)``. The model reads the term as a neutral placeholder, and a term with
a polarity adds a fixed shift to the logits of the text and of its sentence; the term
shows up in the evidence with ``source="term"``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from frankly.errors import InputError
from frankly.text.normalize import Mapped

# What the model reads in place of a term: a pronoun fits wherever a name or an
# adjective stood ("I love Killer Queen" -> "I love it", "this beat is sick" -> "this beat
# is it") and carries no sentiment of its own.
PLACEHOLDER = "it"
# Shift, in calibrated logit units, of a term declared "positive" or "negative": enough that
# a text whose only opinion is the term reads that way ("This beat is sick" scores about
# 0.7 positive with the accurate model), while a clearly opposite rest of the text still
# counts.
POLAR_WEIGHT = 3.0
_NAMED = {"positive": POLAR_WEIGHT, "negative": -POLAR_WEIGHT, "neutral": 0.0}


@dataclass(frozen=True)
class TermHit:
    start: int      # offsets in the text the terms were applied to
    end: int
    term: str
    weight: float   # + towards positive, - towards negative, 0 neutral


class Terms:
    """A compiled term list. ``apply(text)`` returns what the model reads and the hits."""

    def __init__(self, terms: Mapping[str, str | float]) -> None:
        weights: dict[str, float] = {}
        for term, value in terms.items():
            if not isinstance(term, str) or not term.strip():
                raise InputError(f"a term must be a non-empty string, got {term!r}")
            weights[term.strip().lower()] = _weight(term, value)
        self.weights = weights
        alternatives = "|".join(re.escape(t) for t in sorted(weights, key=len, reverse=True))
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def __len__(self) -> int:
        return len(self.weights)

    @classmethod
    def from_file(cls, path: str | Path) -> "Terms":
        """Read ``term,polarity`` rows (CSV or TSV, header optional)."""
        path = Path(path)
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                sample = fh.read(4096)
                fh.seek(0)
                delimiter = "\t" if "\t" in sample else ","
                rows = [r for r in csv.reader(fh, delimiter=delimiter) if r and any(r)]
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read terms file {path}: {exc}") from None
        if rows and rows[0][0].strip().lower() == "term":
            rows = rows[1:]
        terms: dict[str, str | float] = {}
        for line, row in enumerate(rows, start=1):
            if len(row) < 2:
                raise InputError(f"{path}: row {line} needs a term and a polarity, got {row}")
            terms[row[0]] = row[1].strip()
        return cls(terms)

    def apply(self, text: str) -> tuple[Mapped | None, list[TermHit]]:
        """What the model reads (None: the text itself, no term in it) and the hits."""
        hits = [TermHit(m.start(), m.end(), m.group(0), self.weights[m.group(0).lower()])
                for m in self.pattern.finditer(text)]
        if not hits:
            return None, []
        return Mapped.identity(text).sub(self.pattern, lambda m: PLACEHOLDER), hits


def _weight(term: str, value: str | float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        named = _NAMED.get(value.strip().lower())
        if named is not None:
            return named
        try:
            return float(value)
        except ValueError:
            pass
    raise InputError(f"term {term!r}: polarity must be positive, negative, neutral or a "
                     f"number, got {value!r}")
