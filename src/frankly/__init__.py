"""Frankly: honest, calibrated sentiment for customer feedback, offline.

>>> import frankly
>>> r = frankly.analyze("Delivery was quick and the support team was lovely")
>>> r.label, r.needs_review
('positive', False)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from frankly.errors import (ChecksumError, DataError, FranklyError, InputError,
                            MissingDependencyError, ModelError, ModelNotFoundError)
from frankly.result import LABELS, Aspect, Result, Urgency, UrgencyReason

__version__ = "0.9.0.dev0"
__all__ = [
    "LABELS", "Analyzer", "Aspect", "ChecksumError", "DataError", "FranklyError", "InputError",
    "MissingDependencyError", "ModelError", "ModelNotFoundError", "Result", "Urgency",
    "UrgencyReason", "__version__", "analyze", "analyze_many", "load",
]

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer

_default: Analyzer | None = None
_default_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # The Analyzer pulls in numpy: imported on first use, so `import frankly` stays light.
    if name == "Analyzer":
        from frankly.analyzer import Analyzer

        return Analyzer
    raise AttributeError(f"module 'frankly' has no attribute {name!r}")


def _default_analyzer() -> Analyzer:
    global _default
    with _default_lock:
        if _default is None:
            from frankly.analyzer import Analyzer

            _default = Analyzer("accurate")
        return _default


def load(name_or_path: str | Path) -> Analyzer:
    """An Analyzer for ``"accurate"`` (the default), ``"fast"`` or a model directory."""
    from frankly.analyzer import Analyzer

    return Analyzer(name_or_path)


def analyze(text: str, *, targets: Iterable[str] | None = None) -> Result:
    """Analyse one text with the default (accurate) model (``targets``: terms to report the
    sentiment towards, see :meth:`Analyzer.analyze`)."""
    return _default_analyzer().analyze(text, targets=targets)


def analyze_many(texts: Iterable[str], *, batch_size: int = 64,
                 targets: Iterable[str] | None = None) -> Iterator[Result]:
    """Analyse many texts lazily, in order, with the default (accurate) model."""
    return _default_analyzer().analyze_many(texts, batch_size=batch_size, targets=targets)
