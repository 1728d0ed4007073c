"""What a batch job's worker processes need to build the same Analyzer as the driver.

An :class:`AnalyzerSpec` is small, picklable and hashable: a model name or folder and the
options, with files (brand terms, urgency phrases) named by path. Each worker process
builds its Analyzer from it once (:func:`analyzer_for`), and a job folder records its
:meth:`~AnalyzerSpec.identity` so a restarted job can tell whether it is the same job.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer

THREADS_ENV = "FRANKLY_THREADS"  # read by the transformer model (models/transformer.py)


@dataclass(frozen=True)
class AnalyzerSpec:
    """An Analyzer described by value: ``AnalyzerSpec("fast", explain=False).build()``."""

    model: str = "accurate"
    explain: bool = True
    sentences: bool = True
    urgency: bool = True
    aspects: bool = True
    terms: str | None = None            # a file of brand terms (Terms.from_file)
    urgency_phrases: str | None = None  # a file of urgency phrases (UrgencyDetector)

    def build(self) -> Analyzer:
        """The Analyzer (loads the model, reads the files)."""
        from frankly.analyzer import Analyzer

        options: dict[str, Any] = {"explain": self.explain, "sentences": self.sentences,
                                   "urgency": self.urgency, "aspects": self.aspects}
        if self.terms:
            from frankly.terms import Terms

            options["terms"] = Terms.from_file(self.terms)
        if self.urgency_phrases and self.urgency:
            from frankly.urgency import UrgencyDetector

            options["urgency"] = UrgencyDetector(self.urgency_phrases)
        return Analyzer(self.model, **options)

    def check(self) -> str:
        """Fail here, in the calling process, on what every worker would fail on: an
        unknown or damaged model, an unreadable terms or phrases file. Returns the model's
        id (``frankly-fast 1.2.0``); verifies its checksums but loads no weights."""
        from frankly.models.artifacts import read_model_dir
        from frankly.models.registry import model_path

        config = read_model_dir(model_path(self.model))
        if self.terms:
            from frankly.terms import Terms

            Terms.from_file(self.terms)
        if self.urgency_phrases:
            from frankly.urgency.detector import read_phrases

            read_phrases(self.urgency_phrases)
        return f"{config['name']} {config['version']}"

    def identity(self) -> dict[str, Any]:
        """The settings that decide the output, with fingerprints of the model and of the
        files, so that a job restarted after an upgrade or an edit is noticed."""
        from frankly.models.registry import model_path

        found = asdict(self)
        folder = model_path(self.model)
        found["model_fingerprint"] = _fingerprint(
            next((folder / n for n in ("checksums.json", "config.json")
                  if (folder / n).is_file()), None))
        for key in ("terms", "urgency_phrases"):
            if found[key]:
                found[f"{key}_fingerprint"] = _fingerprint(Path(found[key]))
        return found


def _fingerprint(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


@functools.lru_cache(maxsize=4)
def analyzer_for(spec: AnalyzerSpec, threads: int | None = None) -> Analyzer:
    """The Analyzer of ``spec``, built once per process (Spark's and the pool's workers
    call this for every chunk they get).

    ``threads``: the transformer's onnxruntime threads in this process, unless the user set
    FRANKLY_THREADS. A worker is one of several processes sharing the cores, so it wants
    one thread where a lone process wants several. The model reads the variable when it is
    built, and a worker process exists to run this model, so it is set here, in the worker.
    """
    if threads and THREADS_ENV not in os.environ:
        os.environ[THREADS_ENV] = str(threads)
    return spec.build()
