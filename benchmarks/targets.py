"""The targets RESULTS.md checks, as data. Thresholds are the ones stated in the project's
issues (the benchmark takes them as given); change them there first, then here.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

TWEETEVAL = "tweeteval-val"


class Unmeasured(Exception):
    """A target's inputs were not measured in this run (system skipped or not selected)."""


@dataclass(frozen=True)
class Target:
    name: str
    goal: str  # shown to the reader, e.g. ">= 0.70"
    threshold: float
    compare: Callable[[float, float], bool]
    measure: Callable[[dict[str, Any]], tuple[float, str]]  # (value, how it reads)


def _system(results: dict[str, Any], name: str) -> dict[str, Any]:
    system = results["systems"].get(name)
    if system is None:
        raise Unmeasured(f"{name} not in --systems")
    if system["status"] != "ok":
        raise Unmeasured(f"{name} {system['status']}")
    return system


def _recall(name: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def measure(results: dict[str, Any]) -> tuple[float, str]:
        value = _system(results, name)["datasets"][TWEETEVAL]["macro_recall"]
        return value, f"{value:.3f}"
    return measure


def _rates(system: dict[str, Any]) -> tuple[float, str]:
    """Texts/s of the sentiment alone (document-level; evidence, sentence scores, urgency
    and aspects off: issue 2 set the speed targets before any of them existed, and VADER
    and TextBlob give sentiment only), with the richer settings' rates beside it."""
    default = system["throughput"]["texts_per_s"]
    plain = system.get("throughput_no_evidence", system["throughput"])["texts_per_s"]
    whole = system.get("throughput_document", {}).get("texts_per_s", plain)
    alone = system.get("throughput_sentiment", {}).get("texts_per_s", whole)
    return alone, (f"{alone:,.0f} texts/s sentiment only ({whole:,.0f} document-level with "
                   f"urgency, {plain:,.0f} with sentence scores, urgency and aspects, "
                   f"{default:,.0f} with evidence too)")


def _speed(name: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def measure(results: dict[str, Any]) -> tuple[float, str]:
        return _rates(_system(results, name))
    return measure


def _speed_vs_vader(name: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def measure(results: dict[str, Any]) -> tuple[float, str]:
        ours, shown = _rates(_system(results, name))
        vader = _system(results, "vader")["throughput"]["texts_per_s"]
        return ours / vader, f"{ours / vader:.2f}x ({shown}; VADER {vader:,.0f})"
    return measure


def _f1_margin(name: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def measure(results: dict[str, Any]) -> tuple[float, str]:
        ours = _system(results, name)["datasets"]
        vader = _system(results, "vader")["datasets"]
        margins = {k: ours[k]["macro_f1"] - vader[k]["macro_f1"] for k in ours}
        worst = min(margins, key=margins.__getitem__)
        return margins[worst], f"{margins[worst]:+.3f} (smallest, on {worst})"
    return measure


def _rss(name: str) -> Callable[[dict[str, Any]], tuple[float, str]]:
    def measure(results: dict[str, Any]) -> tuple[float, str]:
        value = _system(results, name)["rss_after_load_mb"]
        return value, f"{value:.0f} MB"
    return measure


def _import_time(results: dict[str, Any]) -> tuple[float, str]:
    value = results["import"]["import_frankly_s"]
    return value, f"{value:.3f} s"


TARGETS = (
    Target("accurate: TweetEval val macro-recall", ">= 0.70", 0.70, operator.ge,
           _recall("accurate")),
    Target("accurate: texts/s through analyze_many, sentiment only (document-level; "
           "evidence, sentences, urgency and aspects off)", ">= 250", 250, operator.ge,
           _speed("accurate")),
    Target("fast: TweetEval val macro-recall", ">= 0.62", 0.62, operator.ge, _recall("fast")),
    Target("fast: texts/s vs VADER's, same run, sentiment only (document-level; evidence, "
           "sentences, urgency and aspects off)",
           ">= 5x", 5.0, operator.ge,
           _speed_vs_vader("fast")),
    Target("accurate: macro-F1 minus VADER's, every dev set", ">= +0.10", 0.10, operator.ge,
           _f1_margin("accurate")),
    Target("fast: macro-F1 minus VADER's, every dev set", ">= +0.10", 0.10, operator.ge,
           _f1_margin("fast")),
    Target("accurate: RSS after loading", "<= 400 MB", 400, operator.le, _rss("accurate")),
    Target("import frankly (fresh process, minus bare python)", "< 0.2 s", 0.2, operator.lt,
           _import_time),
)


def check(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: name, goal, value, measured (text) and PASS / FAIL / SKIP."""
    rows = []
    for target in TARGETS:
        row: dict[str, Any] = {"target": target.name, "goal": target.goal}
        try:
            value, shown = target.measure(results)
        except Unmeasured as exc:
            row.update(value=None, measured=f"not measured: {exc}", status="SKIP")
        else:
            row.update(value=value, measured=shown,
                       status="PASS" if target.compare(value, target.threshold) else "FAIL")
        rows.append(row)
    return rows
