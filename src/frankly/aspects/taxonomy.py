"""Aspect categories: the default taxonomy, a user's own, and where a new term belongs.

A taxonomy maps each category to seed terms. A term a seed names (in any case, singular or
plural) gets that category; any other term goes to the category of its most similar seed
term by static word vectors (``frankly.aspects.vectors``), if that similarity reaches
``min_similarity``, else to "other".
"""

from __future__ import annotations

import csv
import functools
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from frankly.errors import InputError

if TYPE_CHECKING:
    from frankly.aspects.vectors import Vectors

OTHER = "other"
DEFAULT_CATEGORIES = ("product quality", "price and value", "delivery and shipping",
                      "customer service", "usability", "reliability and defects", "billing",
                      "staff", "food", "ambience", OTHER)
TAXONOMY_FILE = "taxonomy.tsv"
# Below this cosine similarity to every seed a term goes to "other". Chosen by the 5-fold
# check in scripts/build_aspects.py over 0-0.45: 0.3 put 50.1% of unseen terms in the
# annotated category (0.4: 48.5%, 0.5: 44.8%).
MIN_SIMILARITY = 0.3


def term_key(term: str) -> str:
    """How terms are compared: lower case, single spaces, curly apostrophes straightened."""
    return " ".join(term.lower().replace("\u2019", "'").split())


def _variants(key: str) -> list[str]:
    """The key and its simple singular forms ("batteries" -> "battery", "boxes" -> "box")."""
    out = [key]
    if key.endswith("ies") and len(key) > 4:
        out.append(key[:-3] + "y")
    if key.endswith("es") and len(key) > 3:
        out.append(key[:-2])
    if key.endswith("s") and not key.endswith("ss") and len(key) > 3:
        out.append(key[:-1])
    return out


class Taxonomy:
    """Categories and their seed terms.

    >>> t = Taxonomy({"delivery and shipping": ["delivery", "courier"], "staff": ["waiter"]})
    >>> t.category_of("Couriers"), t.category_of("waiter"), t.category_of("lobster")
    ('delivery and shipping', 'staff', 'other')
    """

    def __init__(self, seeds: Mapping[str, Iterable[str]], *,
                 vectors: "Vectors | None" = None,
                 min_similarity: float = MIN_SIMILARITY) -> None:
        if not isinstance(seeds, Mapping) or not seeds:
            raise InputError("a taxonomy needs a mapping of category -> seed terms, got "
                             f"{type(seeds).__name__}")
        self.seeds: dict[str, tuple[str, ...]] = {}
        self._category: dict[str, str] = {}
        for category, terms in seeds.items():
            if not isinstance(category, str) or not category.strip():
                raise InputError(f"aspect category names must be non-empty strings, "
                                 f"got {category!r}")
            if isinstance(terms, str):
                raise InputError(f"category {category!r}: give a list of seed terms, "
                                 f"not one string")
            keys = []
            for term in terms:
                if not isinstance(term, str) or not term.strip():
                    raise InputError(f"category {category!r}: seed terms must be non-empty "
                                     f"strings, got {term!r}")
                key = term_key(term)
                keys.append(key)
                self._category.setdefault(key, category.strip())
            self.seeds[category.strip()] = tuple(keys)
        if not 0.0 <= min_similarity <= 1.0:
            raise InputError(f"min_similarity must be between 0 and 1, got {min_similarity}")
        self.min_similarity = min_similarity
        self.vectors = vectors
        self._seed_matrix: np.ndarray | None = None
        self._seed_categories: list[str] = []

    @property
    def categories(self) -> list[str]:
        names = list(self.seeds)
        return names if OTHER in names else [*names, OTHER]

    def __len__(self) -> int:
        return len(self._category)

    def seed_category(self, term: str) -> str | None:
        """The category whose seeds name ``term`` (or its singular), else None."""
        for key in _variants(term_key(term)):
            found = self._category.get(key)
            if found is not None:
                return found
        return None

    def category_of(self, term: str) -> str:
        """The category of ``term``: its seed's, else the most similar seed's, else other."""
        return self.categories_of([term])[0]

    def categories_of(self, terms: Iterable[str]) -> list[str]:
        terms = list(terms)
        out: list[str | None] = [self.seed_category(t) for t in terms]
        unknown = [i for i, c in enumerate(out) if c is None]
        if unknown and self.vectors is not None:
            similar = self._nearest([terms[i] for i in unknown])
            for i, category in zip(unknown, similar):
                out[i] = category
        return [c or OTHER for c in out]

    def _nearest(self, terms: list[str]) -> list[str | None]:
        vectors = self.vectors
        assert vectors is not None
        if self._seed_matrix is None:
            keys = [k for k in self._category]
            self._seed_matrix = vectors.embed(keys)
            self._seed_categories = [self._category[k] for k in keys]
        # einsum, not `@`: numpy hands a product this size to a multi-threaded BLAS whose
        # threads then spin, waiting for more work, on the cores that onnxruntime's threads
        # need next (measured: the accurate model read tweets twice as slowly after it).
        sims = np.einsum("ik,jk->ij", vectors.embed(terms), self._seed_matrix)
        best = sims.argmax(1)
        return [self._seed_categories[j] if sims[i, j] >= self.min_similarity else None
                for i, j in enumerate(best.tolist())]

    # -- reading and writing ---------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: object) -> "Taxonomy":
        """A taxonomy from a JSON object (category -> list of terms) or a CSV/TSV file of
        ``category,term`` rows (lines starting with # are comments)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read aspect taxonomy {path}: {exc}") from None
        return cls(parse_taxonomy(text, str(path)), **kwargs)  # type: ignore[arg-type]


def parse_taxonomy(text: str, where: str = "taxonomy") -> dict[str, list[str]]:
    """``category -> terms`` from JSON or CSV/TSV text (see :meth:`Taxonomy.from_file`)."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise InputError(f"{where}: expected a JSON object of category -> list of terms")
        return data
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    delimiter = "\t" if any("\t" in line for line in lines[:20]) else ","
    seeds: dict[str, list[str]] = {}
    for n, row in enumerate(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter), 1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{where}: row {n}: expected 'category{delimiter}term', "
                             f"got {delimiter.join(row)!r}")
        if n == 1 and (row[0].strip().lower(), row[1].strip().lower()) == ("category", "term"):
            continue  # a header
        seeds.setdefault(row[0].strip(), []).append(row[1].strip())
    if not seeds:
        raise InputError(f"{where}: no 'category,term' rows")
    return seeds


@functools.lru_cache(maxsize=1)
def default_seeds() -> dict[str, tuple[str, ...]]:
    """The shipped taxonomy's seed terms (``resources/aspects/taxonomy.tsv``)."""
    from frankly.aspects.resources import resource_text

    parsed = parse_taxonomy(resource_text(TAXONOMY_FILE), TAXONOMY_FILE)
    return {c: tuple(t) for c, t in parsed.items()}
