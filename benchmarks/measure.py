"""Measure one system inside the current process (the worker side of run.py).

run.py starts one fresh Python process per system (``run.py --worker SYSTEM``) so that
memory figures belong to that system alone and systems cannot warm each other's caches.
The worker prints a single JSON object on stdout; everything else goes to stderr.

Order inside the worker matters for the memory numbers: the system is loaded first (RSS is
read right after), and only then are the dev sets read and the metrics module imported.
"""

from __future__ import annotations

import gc
import math
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

from frankly.result import LABELS

FRANKLY_BUILTIN = ("accurate", "fast")
THROUGHPUT_SET = "tweeteval-val"
FRANKLY_BATCH_SIZE = 64

# VADER's documented compound thresholds (vaderSentiment README, "About the Scoring").
VADER_POSITIVE = 0.05
VADER_NEGATIVE = -0.05

PredictMany = Callable[[list[str]], list[str]]
PredictOne = Callable[[str], str]


class Skipped(Exception):
    """The system cannot be measured here for an expected reason (e.g. model not built)."""


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def load_system(name: str) -> tuple[PredictMany, PredictOne, dict[str, Any]]:
    """Return (predict many texts, predict one text, info) for a system name or model path."""
    if name == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        sia = SentimentIntensityAnalyzer()

        def vader_one(text: str) -> str:
            compound = sia.polarity_scores(text)["compound"]
            if compound >= VADER_POSITIVE:
                return "positive"
            if compound <= VADER_NEGATIVE:
                return "negative"
            return "neutral"

        def vader_many(texts: list[str]) -> list[str]:
            return [vader_one(t) for t in texts]

        return vader_many, vader_one, {"kind": "peer", "library": "vaderSentiment"}

    if name == "textblob":
        from textblob import TextBlob

        def textblob_one(text: str) -> str:
            polarity = TextBlob(text).sentiment.polarity
            return "positive" if polarity > 0 else "negative" if polarity < 0 else "neutral"

        def textblob_many(texts: list[str]) -> list[str]:
            return [textblob_one(t) for t in texts]

        return textblob_many, textblob_one, {"kind": "peer", "library": "textblob"}

    import frankly
    from frankly.models.registry import model_path

    if name in FRANKLY_BUILTIN and not model_path(name).is_dir():
        raise Skipped(f"model not built yet: {model_path(name)} does not exist")
    analyzer = frankly.load(name)

    # Scored as three classes: a "mixed" text counts as its top score (Result.polarity).
    def frankly_many(texts: list[str]) -> list[str]:
        return [r.polarity for r in analyzer.analyze_many(texts, batch_size=FRANKLY_BATCH_SIZE)]

    def frankly_one(text: str) -> str:
        return analyzer.analyze(text).polarity

    return frankly_many, frankly_one, {"kind": "frankly", "model": analyzer.model.id,
                                       "model_kind": analyzer.model.kind,
                                       "batch_size": FRANKLY_BATCH_SIZE}


def subset(examples: list[tuple[str, str]], limit: int | None,
           seed: int) -> list[tuple[str, str]]:
    """A seeded random sample of ``limit`` examples, in file order (all if no limit)."""
    if limit is None or limit >= len(examples):
        return examples
    keep = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def throughput(predict: PredictMany, texts: list[str], min_time: float,
               repeats: int) -> dict[str, Any]:
    """Texts per second of ``predict`` over ``texts``: median of ``repeats`` timings.

    One untimed warm-up pass first; it also sizes each timing to enough whole passes over
    ``texts`` to last at least ``min_time`` seconds. A timing that still comes out shorter
    (steady state is faster than the warm-up pass) is discarded and redone with more passes.
    """
    start = time.perf_counter()
    predict(texts)
    warmup = time.perf_counter() - start
    passes = max(1, math.ceil(1.1 * min_time / max(warmup, 1e-6)))
    kept: list[dict[str, float]] = []
    discarded: list[dict[str, float]] = []
    while len(kept) < repeats:
        gc.collect()
        start = time.perf_counter()
        for _ in range(passes):
            predict(texts)
        elapsed = time.perf_counter() - start
        timing = {"passes": passes, "seconds": elapsed,
                  "texts_per_s": passes * len(texts) / elapsed}
        if elapsed >= min_time or len(discarded) >= repeats:
            kept.append(timing)
        else:
            discarded.append(timing)
            passes = math.ceil(passes * 1.1 * min_time / elapsed)
    return {"texts_per_s": statistics.median(t["texts_per_s"] for t in kept),
            "timings": kept, "discarded_short_timings": discarded, "n_texts": len(texts),
            "warmup_s": warmup}


def latency(predict: PredictOne, texts: list[str], n: int) -> dict[str, Any]:
    """p50/p95 milliseconds of one-text calls over the first ``n`` texts (after 10 warm-ups)."""
    sample = texts[:n]
    for text in sample[:10]:
        predict(text)
    times_ms = []
    for text in sample:
        start = time.perf_counter()
        predict(text)
        times_ms.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(times_ms, n=100, method="inclusive") if len(times_ms) > 1 \
        else times_ms * 99
    return {"n": len(times_ms), "p50_ms": cuts[49], "p95_ms": cuts[94],
            "mean_ms": statistics.fmean(times_ms)}


def evaluate(predict: PredictMany, examples: list[tuple[str, str]]) -> dict[str, Any]:
    from frankly.training.metrics import classification_report

    start = time.perf_counter()
    predicted = predict([t for t, _ in examples])
    seconds = time.perf_counter() - start
    report = classification_report([LABELS.index(y) for _, y in examples],
                                   [LABELS.index(y) for y in predicted], LABELS)
    report["seconds"] = seconds
    return report


def calibration(name: str, dev_sets: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """Per dev set: ECE before (T = 1) and after the model's temperature, and how
    ``needs_review`` (confidence below the model's threshold) splits the errors."""
    import numpy as np

    import frankly
    from frankly.calibration import expected_calibration_error, softmax
    from frankly.training.package import review_stats

    model = frankly.load(name).model
    out = {}
    for set_name, examples in dev_sets.items():
        texts = [t for t, _ in examples]
        logits = np.concatenate([model.predict_logits(texts[i:i + 256])[0]
                                 for i in range(0, len(texts), 256)])
        y = np.array([LABELS.index(lab) for _, lab in examples])
        probs = model.calibrate(logits)
        before = softmax(logits + model.logit_adjustment)
        out[set_name] = {"ece_before": expected_calibration_error(before, y),
                         "ece_after": expected_calibration_error(probs, y),
                         "temperature": model.temperature,
                         "review_threshold": model.review_threshold,
                         **review_stats(probs, y, model.review_threshold)}
    return out


def run_worker(name: str, data: Path, limit: int | None, seed: int, min_time: float,
               repeats: int, latency_n: int) -> dict[str, Any]:
    """Every measurement of one system, as a JSON-ready dict."""
    out: dict[str, Any] = {"system": name, "rss_start_mb": rss_mb()}
    start = time.perf_counter()
    try:
        predict_many, predict_one, info = load_system(name)
    except Skipped as exc:
        return {**out, "status": "skipped", "reason": str(exc)}
    # A first one-text call counts as loading: TextBlob reads its lexicon lazily on first
    # use and onnxruntime allocates on its first run; the reader wants time to first result.
    predict_one("The first call loads anything that is loaded lazily.")
    out.update(status="ok", info=info, load_s=time.perf_counter() - start,
               rss_after_load_mb=rss_mb())

    from frankly.training.data import load_dev_sets

    dev_sets = {k: subset(v, limit, seed) for k, v in load_dev_sets(data).items()}
    out["datasets"] = {k: evaluate(predict_many, v) for k, v in dev_sets.items()}
    if info["kind"] == "frankly":
        out["calibration"] = calibration(name, dev_sets)
    texts = [t for t, _ in dev_sets[THROUGHPUT_SET]]
    out["throughput"] = throughput(predict_many, texts, min_time, repeats)
    if info["kind"] == "frankly":
        import frankly

        plain = frankly.Analyzer(name, explain=False)
        out["throughput_no_evidence"] = throughput(
            lambda batch: [r.polarity for r in plain.analyze_many(
                batch, batch_size=FRANKLY_BATCH_SIZE)], texts, min_time, repeats)
        # Document-level only, as issue 2 defined analysis before sentences and mixed
        # (urgency on, aspects off); and the sentiment alone, as VADER and TextBlob give.
        whole = frankly.Analyzer(name, explain=False, sentences=False, aspects=False)
        out["throughput_document"] = throughput(
            lambda batch: [r.polarity for r in whole.analyze_many(
                batch, batch_size=FRANKLY_BATCH_SIZE)], texts, min_time, repeats)
        alone = frankly.Analyzer(name, explain=False, sentences=False, aspects=False,
                                 urgency=False)
        out["throughput_sentiment"] = throughput(
            lambda batch: [r.polarity for r in alone.analyze_many(
                batch, batch_size=FRANKLY_BATCH_SIZE)], texts, min_time, repeats)
    out["latency"] = latency(predict_one, texts, latency_n)
    out["rss_end_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_rss_mb()
    return out
