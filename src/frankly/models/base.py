"""The one protocol every sentiment model follows, scikit-learn style.

``predict_proba(texts)`` returns calibrated probabilities with columns in ``classes_``;
``predict_logits(texts)`` returns the raw scores and one review note per text (or None);
``save(dir)`` writes a model directory that ``load(dir)`` reads back. The transformer
model, the fast model and a user's own trained models are interchangeable behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, Sequence, runtime_checkable

import numpy as np

from frankly.calibration import softmax


@runtime_checkable
class SentimentModel(Protocol):
    name: str
    version: str
    classes_: tuple[str, ...]
    config: dict[str, Any]

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...

    def save(self, model_dir: Path) -> None: ...


class BaseModel:
    """Shared parts: identity, classes and the calibration stored in the config."""

    kind: ClassVar[str] = ""
    # The Analyzer never sends smaller batches than this (when it has the texts): the fast
    # model's per-call overhead is worth spreading over many texts.
    min_batch_size: ClassVar[int] = 1

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

    @property
    def id(self) -> str:
        """``name version``, as reported in every Result."""
        return f"{self.name} {self.version}"

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        raise NotImplementedError

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
