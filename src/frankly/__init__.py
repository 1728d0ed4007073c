"""Frankly: honest, calibrated sentiment for customer feedback, offline.

>>> import frankly
>>> r = frankly.analyze("Delivery was quick and the support team was lovely")
>>> r.label, r.needs_review
('positive', False)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable, Iterator

from frankly.analyzer import Analyzer
from frankly.errors import (ChecksumError, DataError, FranklyError, InputError,
                            MissingDependencyError, ModelError, ModelNotFoundError)
from frankly.result import LABELS, Result

__version__ = "0.1.0"
__all__ = [
    "LABELS", "Analyzer", "ChecksumError", "DataError", "FranklyError", "InputError",
    "MissingDependencyError", "ModelError", "ModelNotFoundError", "Result", "__version__",
    "analyze", "analyze_many", "load",
]

_default: Analyzer | None = None
_default_lock = threading.Lock()


def _default_analyzer() -> Analyzer:
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyzer("accurate")
        return _default


def load(name_or_path: str | Path) -> Analyzer:
    """An Analyzer for ``"accurate"`` (the default), ``"fast"`` or a model directory."""
    return Analyzer(name_or_path)


def analyze(text: str) -> Result:
    """Analyse one text with the default (accurate) model."""
    return _default_analyzer().analyze(text)


def analyze_many(texts: Iterable[str], *, batch_size: int = 64) -> Iterator[Result]:
    """Analyse many texts lazily, in order, with the default (accurate) model."""
    return _default_analyzer().analyze_many(texts, batch_size=batch_size)
