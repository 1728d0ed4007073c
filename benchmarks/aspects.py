"""Measure aspects (issue 5) on the fixed dev split of SemEval-2014 Task 4.

    python benchmarks/aspects.py --data ../shared/data [--json F]

Prints Markdown (appended to RESULTS.md by run.py):

1. **Extraction**: term extraction F1 with exact character spans, restaurants and laptops
   separately, of ``Result.aspects`` (source "extracted") on each dev sentence.
2. **Polarity on the gold terms**: each dev sentence read with its gold terms as
   ``targets``; the label of the entry at each gold span against the gold polarity
   (positive, negative, neutral; "conflict" terms left out, as SemEval scored it). Beside
   it, in the same run: the sentence's own Frankly label given to every term, and VADER's
   sentence label (compound >= 0.05 positive, <= -0.05 negative) given to every term.
3. **Speed**: ``analyze_many`` texts/s with aspects on and off on the TweetEval val tweets.

The dev split (about 1 sentence in 5, fixed by a hash of the sentence id; see
``frankly.training.absa``) also picks the training epoch of the aspect heads; SemEval data
states no licence, so nothing is trained on it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from render import _table  # noqa: E402

from frankly import Analyzer  # noqa: E402
from frankly.training.absa import semeval2014_split  # noqa: E402
from frankly.training.aspect_eval import extraction_counts, f1  # noqa: E402

DOMAINS = ("restaurants", "laptops")
TARGETS = {"restaurants": (0.80, 0.78), "laptops": (0.72, 0.72)}  # extraction F1, polarity
SPEED_TARGET = 150.0
BATCH_SIZE = 64
MODELS = ("accurate", "fast")
POLARITIES = ("positive", "negative", "neutral")


def extraction(analyzer: Analyzer, sentences: list[Any]) -> dict[str, Any]:
    tp = fp = fn = 0
    results = list(analyzer.analyze_many([s.text for s in sentences], batch_size=BATCH_SIZE))
    for s, r in zip(sentences, results):
        found = [(a.start, a.end) for a in r.aspects if a.source == "extracted"]
        a, b, c = extraction_counts([(t.start, t.end) for t in s.terms], found)
        tp, fp, fn = tp + a, fp + b, fn + c
    return {**f1(tp, fp, fn), "gold": tp + fn, "found": tp + fp}


def polarity(analyzer: Analyzer, sentences: list[Any]) -> dict[str, Any]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    right = sentence_right = vader_right = total = missing = 0
    by_label = {p: [0, 0] for p in POLARITIES}
    for s in sentences:
        gold = [t for t in s.terms if t.polarity in POLARITIES]
        if not gold:
            continue
        r = analyzer.analyze(s.text, targets=sorted({t.term for t in gold}))
        at = {(a.start, a.end): a.label for a in r.aspects if a.source == "target"}
        compound = vader.polarity_scores(s.text)["compound"]
        v = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        for t in gold:
            total += 1
            label = at.get((t.start, t.end))
            missing += label is None
            right += label == t.polarity
            by_label[t.polarity][0] += label == t.polarity
            by_label[t.polarity][1] += 1
            sentence_right += r.polarity == t.polarity
            vader_right += v == t.polarity
    return {"accuracy": right / total, "sentence_label": sentence_right / total,
            "vader_sentence": vader_right / total, "n": total, "not_found": missing,
            "recall_by_label": {k: a / b if b else 0.0 for k, (a, b) in by_label.items()}}


def speed(data: Path) -> dict[str, Any]:
    texts = (data / "tweeteval-sentiment" / "val_text.txt").read_text(
        encoding="utf-8").splitlines()
    out = {}
    for name in MODELS:
        settings = {"aspects": Analyzer(name, explain=False, urgency=True),
                    "no aspects": Analyzer(name, explain=False, urgency=True, aspects=False),
                    "default (evidence on)": Analyzer(name)}
        rates = {}
        for label, analyzer in settings.items():
            list(analyzer.analyze_many(texts[:200], batch_size=BATCH_SIZE))  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                list(analyzer.analyze_many(texts, batch_size=BATCH_SIZE))
                times.append(time.perf_counter() - start)
            rates[label] = len(texts) / sorted(times)[1]
        out[name] = rates
    return out


def run(data: Path) -> dict[str, Any]:
    start, load = time.perf_counter(), os.getloadavg()[0]
    dev = {d: semeval2014_split(data, d)[1] for d in DOMAINS}
    results: dict[str, Any] = {"extraction": {}, "polarity": {}}
    for name in MODELS:
        analyzer = Analyzer(name, explain=False, urgency=False)
        results["extraction"][name] = {d: extraction(analyzer, s) for d, s in dev.items()}
        results["polarity"][name] = {d: polarity(analyzer, s) for d, s in dev.items()}
    results["heads"] = {name: bool(getattr(Analyzer(name, urgency=False).model, "has_aspects",
                                           False)) for name in MODELS}
    results["speed"] = speed(data)
    results["sizes"] = {d: {"sentences": len(s), "terms": sum(len(x.terms) for x in s)}
                        for d, s in dev.items()}
    results["load"] = [load, os.getloadavg()[0]]
    results["seconds"] = time.perf_counter() - start
    return results


def markdown(results: dict[str, Any]) -> str:
    out = ["## Aspects", "",
           "SemEval-2014 Task 4, our fixed dev split of its train files (about 1 sentence in "
           "5 by a hash of the sentence id; the official test files are not provided): " +
           ", ".join(f"{d} {v['sentences']:,} sentences, {v['terms']:,} gold terms"
                     for d, v in results["sizes"].items()) + ". That data states no licence, "
           "so no shipped model is trained on it; the aspect heads of the accurate model "
           "learn from sentences we wrote, and this split picks their epoch. How each model "
           "finds terms: " + ", ".join(
               f"{n} {'aspect heads' if h else 'taxonomy seed terms'}"
               for n, h in results["heads"].items()) + ".", ""]
    rows = []
    for name in MODELS:
        for d in DOMAINS:
            e, p = results["extraction"][name][d], results["polarity"][name][d]
            goal_e, goal_p = TARGETS[d]
            rows.append([name, d, f"{e['precision']:.3f}", f"{e['recall']:.3f}",
                         f"{e['f1']:.3f}", f"≥ {goal_e:.2f}: "
                         f"{'**PASS**' if e['f1'] >= goal_e else '**FAIL**'}",
                         f"{p['accuracy']:.3f}", f"{p['sentence_label']:.3f}",
                         f"{p['vader_sentence']:.3f}",
                         f"≥ {goal_p:.2f}: "
                         f"{'**PASS**' if p['accuracy'] >= goal_p else '**FAIL**'}"])
    out += _table(["Model", "Domain", "Extraction P", "R", "F1", "Target", "Polarity acc.",
                   "Sentence label", "VADER sentence", "Target"], rows, "llrrrlrrrl")
    out += ["", "Polarity: each gold term (positive, negative or neutral) asked as a target; "
            "\"Sentence label\" gives every term the sentence's own Frankly label, \"VADER "
            "sentence\" VADER's label of the sentence (peers in the same run). Recall by "
            "gold label (accurate): " + "; ".join(
                f"{d} " + ", ".join(f"{k} {v:.2f}" for k, v in
                                    results["polarity"]["accurate"][d]["recall_by_label"].items())
                for d in DOMAINS) + ".", ""]
    rows = []
    for name, rates in results["speed"].items():
        rows.append([name] + [f"{rates[k]:,.0f}" for k in
                              ("aspects", "no aspects", "default (evidence on)")]
                    + ([f"≥ {SPEED_TARGET:.0f}: "
                        f"{'**PASS**' if rates['aspects'] >= SPEED_TARGET else '**FAIL**'}"]
                       if name == "accurate" else ["-"]))
    out += _table(["Model", "Texts/s, aspects on (evidence off)", "aspects off",
                   "default (evidence and aspects on)", "Target"], rows, "lrrrl")
    out += ["", f"TweetEval val tweets (2,000) through `analyze_many` (batches of "
            f"{BATCH_SIZE}), urgency on; median of 3 passes after a warm-up. Run in "
            f"{results['seconds']:.0f} s; load average {results['load'][0]:.2f} at start, "
            f"{results['load'][1]:.2f} at end (2 cores: above about 0.5 speeds are "
            f"understated).", ""]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure aspects (issue 5).")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--json", type=Path, help="write every raw number to this file")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"no data folder at {args.data}: pass --data pointing at shared/data")
    results = run(args.data)
    print(markdown(results), end="")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
