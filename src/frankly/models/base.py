"""The one protocol every sentiment model follows, scikit-learn style.

``predict_proba(texts)`` returns calibrated probabilities with columns in ``classes_``;
``predict_logits(texts)`` returns the raw scores and one review note per text (or None);
``predict_tokens(texts)`` adds, per text, the share of the logits each word carries
(:class:`WordScores`), from which the Analyzer derives sentence scores and evidence.
``save(dir)`` writes a model directory that ``load(dir)`` reads back. The transformer
model, the fast model and a user's own trained models are interchangeable behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Sequence, runtime_checkable

import numpy as np

from frankly.calibration import softmax
from frankly.text.people import People


@dataclass(frozen=True)
class WordScores:
    """How one text's logits break down over its words.

    Both models pool additive per-token scores: ``logits = total / count**pool_power +
    bias`` where ``total`` sums ``raw`` over the words plus ``rest`` (tokens that are no
    word, such as the transformer's [CLS] and [SEP]), and ``count`` sums ``counts`` plus
    ``rest_count``. The same formula over a subset of the words scores that subset (a
    sentence) in the context of the whole text.
    """

    spans: np.ndarray       # (n_words, 2) [start, end) offsets in the text given to the model
    raw: np.ndarray         # (n_words, n_classes) summed token scores of each word
    counts: np.ndarray      # (n_words,) tokens or features per word
    rest: np.ndarray        # (n_classes,) scores of tokens outside any word
    rest_count: float
    bias: np.ndarray        # (n_classes,) added after pooling
    # A model with aspect heads: its per-token aspect scores (frankly.aspects.TokenAspects).
    aspects: Any = None

    def pooled(self, raw: np.ndarray, count: float, pool_power: float) -> np.ndarray:
        """Logits of a subset of words whose summed ``raw`` and token count are given."""
        return raw / max(count, 1.0) ** pool_power + self.bias


@runtime_checkable
class SentimentModel(Protocol):
    name: str
    version: str
    classes_: tuple[str, ...]
    config: dict[str, Any]

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def predict_tokens(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], list[WordScores]]: ...

    def save(self, model_dir: Path) -> None: ...


class BaseModel:
    """Shared parts: identity, classes and the calibration stored in the config."""

    kind: ClassVar[str] = ""
    # The Analyzer never sends smaller batches than this (when it has the texts): the fast
    # model's per-call overhead is worth spreading over many texts.
    min_batch_size: ClassVar[int] = 1
    # logits = summed token scores / count**pool_power + bias (see WordScores).
    pool_power: ClassVar[float] = 1.0
    # Longest text, in characters, sent to the model in one piece; longer ones are analysed
    # in sentence chunks. ``chunk_floor`` chars are always read whole (no truncation).
    chunk_chars: ClassVar[int] = 1000
    chunk_floor: ClassVar[int] = 1000
    # Whether a short text of several sentences is also read whole (document scores in
    # context, one more model call per token) or pooled from its sentences' readings.
    read_whole: ClassVar[bool] = True

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.name: str = config["name"]
        self.version: str = config["version"]
        self.classes_: tuple[str, ...] = tuple(config["labels"])
        self.temperature: float = float(config["temperature"])
        self.review_threshold: float = float(config["review_threshold"])
        # Added to the logits before the temperature: minus the log of the training class
        # prior when the model was trained on an unbalanced mix (logit adjustment, Menon et
        # al. 2021), so scores assume no class is more likely a priori. Zero when absent.
        self.logit_adjustment = np.asarray(
            config.get("logit_adjustment", [0.0] * len(self.classes_)), dtype=np.float64)
        # How the model reads first names and gendered words (frankly.text.people); None
        # when the config says nothing: text as written.
        self.people: People | None = People.from_config(config)

    @property
    def id(self) -> str:
        """``name version``, as reported in every Result."""
        return f"{self.name} {self.version}"

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        raise NotImplementedError

    def predict_tokens(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], list[WordScores]]:
        raise NotImplementedError

    def predict_counts(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], np.ndarray]:
        """Logits, notes, and each text's token (or feature) count: enough to pool texts
        read in pieces (see :meth:`pool_bias`) without the cost of word scores."""
        raise NotImplementedError

    def overflow(self, texts: Sequence[str]) -> list[float | None]:
        """For each text, None when the model reads it whole, else roughly the share of it
        that fits the model's window (so the caller can cut it before running the model)."""
        sizes = self.sizes(texts)
        return [None] * len(texts) if sizes is None else [self.overflow_of(n) for n in sizes]

    def sizes(self, texts: Sequence[str]) -> list[int] | None:
        """How many tokens each text makes, for a model whose cost grows with padding: the
        Analyzer batches texts of similar size and cuts those over the window
        (:meth:`overflow_of`). None: the cost does not depend on padding; the Analyzer then
        sorts by characters and asks :meth:`overflow`."""
        return None

    def overflow_of(self, size: int) -> float | None:
        """:meth:`overflow` of a text that makes ``size`` tokens."""
        return None

    def pool_bias(self) -> np.ndarray:
        """The bias added after pooling (``WordScores.bias``), the same for every text."""
        if not hasattr(self, "_pool_bias"):
            self._pool_bias = self.predict_tokens(["ok"])[2][0].bias
        return self._pool_bias

    def calibrate(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from raw logits (prior correction, then temperature)."""
        return softmax(np.asarray(logits) + self.logit_adjustment, self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        logits, _ = self.predict_logits(texts)
        return self.calibrate(logits)

    def save(self, model_dir: Path) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"
