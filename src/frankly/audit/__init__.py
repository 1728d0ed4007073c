"""The audit published with every model: bias, robustness and calibration, measured.

:func:`run_audit` measures one model and returns plain data (JSON-serialisable);
:mod:`frankly.audit.report` renders it as text, Markdown and HTML with PNG plots, and
:mod:`frankly.audit.docs` writes the model cards and the transparency note from it.

- **Bias** (:mod:`frankly.audit.bias`): score differences between female and male persons
  and between African-American and European-American names on the Equity Evaluation
  Corpus, paired t-tests with Holm's correction, and the label flip rate when only the
  name changes. Needs the corpus (not shipped: no licence is stated for it).
- **Robustness** (:mod:`frankly.audit.probes`): pass rates of the shipped minimal-pair
  probe suite per category.
- **Calibration** (:mod:`frankly.audit.calibration`): ECE and a reliability diagram on
  TweetEval val, the share of ``needs_review`` and the error rate on each side of it.
  Needs the dev data (not shipped).

A section whose data is not given is skipped, and the report says so.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from frankly.audit.bias import (ALPHA, MAX_FLIP_RATE, MAX_MEAN_DIFFERENCE, analyzer_scorer,
                                bias_audit, default_eec_path, read_eec)
from frankly.audit.calibration import calibration_audit, load_dev
from frankly.audit.probes import load_probes, robustness_audit
from frankly.errors import FranklyError

__all__ = ["ALPHA", "MAX_FLIP_RATE", "MAX_MEAN_DIFFERENCE", "load_audit", "model_short_name",
           "run_audit", "target_rows"]


class ProgressBar(Protocol):
    def __call__(self, n: int) -> None: ...

    def close(self) -> None: ...


# ``progress(label, total)`` opens a bar for one step of the audit.
ProgressFactory = Callable[[str, int], ProgressBar]


def model_short_name(model: Any, model_id: str) -> str:
    """The built-in name ("accurate"), else the model's name without "frankly-"."""
    from frankly.models.registry import BUILTIN

    if isinstance(model, str) and model in BUILTIN:
        return model
    name = model_id.split()[0]
    return name[len("frankly-"):] if name.startswith("frankly-") else name


def _model_dir(source: Any) -> str | None:
    """The folder a model was loaded from (for its config and card), if known."""
    from frankly.models.registry import model_path

    if isinstance(source, (str, Path)):
        try:
            return str(model_path(source))
        except FranklyError:
            return None
    return None


def load_audit(path: str | Path) -> dict[str, Any]:
    """An ``audit.json`` written by :func:`frankly.audit.report.write_report`, with the
    numbers JSON holds as null (NaN) turned back into NaN."""
    import json

    def revive(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: revive(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [revive(v) for v in value]
        if value is None and key in _NUMBERS:
            return math.nan
        return value

    return revive(json.loads(Path(path).read_text(encoding="utf-8")))


_NUMBERS = {"mean_difference", "ci_low", "ci_high", "t", "p_value", "p_holm", "rate",
            "pair_rate", "ece", "accuracy", "needs_review_share", "error_rate_flagged",
            "error_rate_unflagged"}


def run_audit(model: Any = "accurate", *, eec: str | Path | None = None,
              data: str | Path | None = None, probes: str | Path | None = None,
              progress: ProgressFactory | None = None) -> dict[str, Any]:
    """Audit one model: an Analyzer, a built-in name or a model folder.

    ``eec``: the Equity Evaluation Corpus CSV (default: under ``data`` when given);
    ``data``: the folder holding ``tweeteval-sentiment/`` and, usually,
    ``equity-evaluation-corpus/``; ``probes``: a probe TSV (default: the shipped suite).
    Without a corpus the bias section is skipped; without ``data`` the calibration one.
    """
    from frankly import __version__
    from frankly.analyzer import Analyzer

    analyzer = model if isinstance(model, Analyzer) else Analyzer(
        model, explain=False, urgency=False, aspects=False)
    model_id = analyzer.model.id
    source = model if not isinstance(model, Analyzer) else model_id
    # Read every input first, so a wrong path fails before minutes of scoring.
    eec_path = Path(eec) if eec is not None else (
        default_eec_path(data) if data is not None else None)
    eec_rows = read_eec(eec_path) if eec_path is not None else None
    dev = load_dev(data) if data is not None else None
    probe_list = load_probes(probes)

    @contextmanager
    def bar(label: str, total: int) -> Iterator[ProgressBar | None]:
        b = progress(label, total) if progress is not None else None
        try:
            yield b
        finally:
            if b is not None:
                b.close()

    audit: dict[str, Any] = {
        "model": {"id": model_id, "name": model_short_name(source, model_id),
                  "path": _model_dir(source),
                  "review_threshold": analyzer.review_threshold},
        "frankly_version": __version__,
    }
    if eec_rows is None:
        audit["bias"] = {"skipped": "no Equity Evaluation Corpus given (--eec FILE, or "
                                    "--data DIR holding equity-evaluation-corpus/)"}
    else:
        with bar("bias: scoring the corpus", len(eec_rows)) as b:
            audit["bias"] = bias_audit(eec_rows, analyzer_scorer(analyzer, progress=b))
        audit["bias"]["source"] = str(eec_path)
    with bar("robustness: probes", len(probe_list)) as b:
        audit["robustness"] = robustness_audit(analyzer, probe_list, progress=b)
    if dev is None:
        audit["calibration"] = {"skipped": "no dev data given (--data DIR holding "
                                           "tweeteval-sentiment/)"}
    else:
        with bar("calibration: dev data", len(dev)) as b:
            audit["calibration"] = calibration_audit(analyzer, dev, progress=b)
    audit["targets"] = target_rows(audit)
    return audit


AXIS_SHORT = {"gender": "female - male",
              "race": "African-American - European-American names"}


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.2f}%"


def _p(x: float) -> str:
    return "n/a" if math.isnan(x) else (f"{x:.2g}" if x < 0.001 else f"{x:.3f}")


def target_rows(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """``{target, goal, measured, met}`` for each target the measured sections allow
    (``met`` is None where a section was skipped)."""
    rows: list[dict[str, Any]] = []
    bias = audit["bias"]
    for axis in ("gender", "race"):
        name = f"bias, {axis}: mean score difference ({AXIS_SHORT[axis]})"
        if "skipped" in bias:
            rows.append({"target": name, "goal": f"within ±{MAX_MEAN_DIFFERENCE}",
                         "measured": "skipped", "met": None})
            continue
        a = bias["axes"][axis]
        o = a["overall"]
        rows.append({"target": name, "goal": f"within ±{MAX_MEAN_DIFFERENCE}",
                     "measured": f"{o['mean_difference']:+.4f} over {o['pairs']} pairs",
                     "met": abs(o["mean_difference"]) <= MAX_MEAN_DIFFERENCE})
        sig = a["significant_breakdowns"]
        ok = not o["p_value"] < ALPHA and not sig
        measured = f"overall p = {_p(o['p_value'])}"
        if sig:
            measured += f"; significant after Holm: {len(sig)} of {a['family_size'] - 1} " \
                        f"breakdowns"
        else:
            measured += "; no breakdown significant after Holm"
        rows.append({"target": f"bias, {axis}: no significant difference",
                     "goal": f"p ≥ {ALPHA} (breakdowns Holm-corrected)", "measured": measured,
                     "met": ok})
    name = "bias: label flip rate when only the name changes"
    if "skipped" in bias:
        rows.append({"target": name, "goal": f"≤ {MAX_FLIP_RATE:.0%}", "measured": "skipped",
                     "met": None})
    else:
        f = bias["flips"]["names"]
        rows.append({"target": name, "goal": f"≤ {MAX_FLIP_RATE:.0%}",
                     "measured": f"{_pct(f['rate'])} ({f['flipped']:,} of {f['pairs']:,} "
                                 f"name pairs)", "met": bias["flips"]["target_met"]})
    rob = audit["robustness"]
    rows.append({"target": "robustness: probe rows passed (sarcasm excluded)",
                 "goal": f"≥ {rob['target']:.0%}",
                 "measured": f"{100 * rob['overall']['rate']:.1f}% of {rob['overall']['rows']}",
                 "met": rob["target_met"]})
    return rows
