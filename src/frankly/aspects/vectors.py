"""Static word vectors for aspect terms: numpy and tokenizers only.

Every wordpiece of the all-MiniLM-L6-v2 vocabulary was run alone through that encoder
(Apache-2.0) and its output kept, reduced by PCA and stored as int8
(``scripts/build_aspects.py``): a term's vector is the normalised mean of its
wordpieces' vectors. Good enough to tell that "courier" sits near "delivery" and "waiter"
near "staff"; it reads no context.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterable

import numpy as np

from frankly.errors import MissingDependencyError

VECTORS = "vectors.npz"  # int8 rows "q" and their float32 "scale"
TOKENIZER = "tokenizer.json"
CACHE_LIMIT = 100_000  # term vectors kept; the cache is emptied beyond (bounded memory)


class Vectors:
    def __init__(self, matrix: np.ndarray, tokenizer_file: Path) -> None:
        try:
            import tokenizers
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise MissingDependencyError("aspect vectors need tokenizers: pip install frankly"
                                         ) from exc
        tok = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        tok.no_padding()
        tok.no_truncation()
        self.tokenizer = tok
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self._cache: dict[str, np.ndarray] = {}

    def embed(self, terms: Iterable[str]) -> np.ndarray:
        """Unit vectors, one row per term (zeros for a term with no wordpiece)."""
        terms = list(terms)
        out = np.zeros((len(terms), self.matrix.shape[1]), dtype=np.float32)
        todo = [i for i, t in enumerate(terms) if t not in self._cache]
        if todo:
            if len(self._cache) + len(todo) > CACHE_LIMIT:
                self._cache.clear()
            encs = self.tokenizer.encode_batch([terms[i] for i in todo],
                                               add_special_tokens=False)
            for i, enc in zip(todo, encs):
                v = self.matrix[enc.ids].mean(0) if enc.ids else out[i]
                norm = float(np.linalg.norm(v))
                self._cache[terms[i]] = v / norm if norm > 0 else v
        for i, t in enumerate(terms):
            out[i] = self._cache[t]
        return out


@functools.lru_cache(maxsize=1)
def default_vectors() -> Vectors:
    """The shipped vectors, loaded once per process."""
    from frankly.aspects.resources import resource_dir

    directory = resource_dir()
    with np.load(directory / VECTORS, allow_pickle=False) as z:
        matrix = z["q"].astype(np.float32) * z["scale"][:, None]
    return Vectors(matrix, directory / TOKENIZER)
