"""Whole documents: evidence faithfulness, long-text scaling and the mixed rule.

    python benchmarks/documents.py --data ../shared/data [--systems accurate,fast]
                                   [--limit N] [--sizes 1000,10000,100000,1000000]

- **Faithfulness** (issue 3, item 4): for every dev text, delete the top evidence span and
  analyse the text again; the evidence is faithful for that text when the probability of
  the label it was given (its top score) went down. Target: at least 90% of dev texts.
- **Long documents** (item 3): texts of 1 KB to 1 MB made of dev sentences, each analysed
  completely in a fresh process: seconds, microseconds per character, sentences found, and
  the process's peak memory over its memory after loading the model. Time should grow
  linearly with length and memory should not.
- **Mixed** (item 2): the threshold and its precision/recall on the dev documents it was
  chosen on, as stored in the model's config.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
FAITHFUL_TARGET = 0.90
FAITHFUL_SETS = ("tweeteval-val", "sst3-dev", "goemotions-dev")
FAITHFUL_LIMIT = 1000  # texts per dev set (a seeded sample), to keep the run short
RSS_SAMPLE_S = 0.005


def faithfulness(name: str, data: Path, limit: int) -> dict[str, Any]:
    import frankly
    from frankly.training.data import load_dev_sets

    explaining = frankly.Analyzer(name)
    plain = frankly.Analyzer(name, explain=False)
    dev = load_dev_sets(data)
    out: dict[str, Any] = {}
    for set_name in FAITHFUL_SETS:
        texts = [t for t, _ in dev[set_name]]
        if len(texts) > limit:
            texts = random.Random(0).sample(texts, limit)
        start = time.perf_counter()
        results = list(explaining.analyze_many(texts))
        seconds = time.perf_counter() - start
        variants, kept = [], []
        for r in results:
            top = next((e for e in r.evidence if e.source == "model"), None)
            if top is not None:
                variants.append(r.text[:top.start] + r.text[top.end:])
                kept.append(r)
        lowered = sum(after.scores[r.polarity] < r.scores[r.polarity]
                      for r, after in zip(kept, plain.analyze_many(variants)))
        out[set_name] = {"n": len(results), "with_evidence": len(kept), "lowered": lowered,
                         "rate": lowered / len(results) if results else 0.0,
                         "mixed": sum(r.label == "mixed" for r in results),
                         "texts_per_s_with_evidence": len(results) / seconds}
    total = sum(v["n"] for v in out.values())
    out["all"] = {"n": total, "lowered": sum(v["lowered"] for v in out.values()),
                  "rate": sum(v["lowered"] for v in out.values()) / max(total, 1)}
    return out


def long_text(data: Path, size: int) -> str:
    """``size`` characters of dev sentences (SST-3 dev and GoEmotions dev), seeded."""
    from frankly.training.data import load_goemotions, load_sst3

    pool = [t for t, _ in load_sst3(data, "dev") + load_goemotions(data, "dev")]
    rng = random.Random(size)
    parts: list[str] = []
    length = 0
    while length < size:
        text = rng.choice(pool).strip()
        if text[-1:] not in ".!?":
            text += "."
        parts.append(text)
        length += len(text) + 1
    return " ".join(parts)[:size]


def long_worker(name: str, data: Path, size: int) -> dict[str, Any]:
    """One size in this (fresh) process: time, sentences and peak memory during the call
    (resident memory sampled every few milliseconds, over what it was just before)."""
    import threading

    import frankly

    analyzer = frankly.Analyzer(name)
    analyzer.analyze("Warm-up: the first call allocates.")
    analyzer.analyze("Ein deutscher Satz, damit auch die Spracherkennung geladen ist.")
    text = long_text(data, size)
    base = _rss_mb()
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _rss_mb())
            done.wait(RSS_SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    result = analyzer.analyze(text)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    peak = max(peak, _rss_mb())
    visible = len(text) - sum(c.isspace() for c in text)
    in_sentences = sum(e - s - sum(c.isspace() for c in text[s:e])
                       for s, e in ((x.start, x.end) for x in result.sentences))
    return {"size": len(text), "seconds": seconds, "us_per_char": seconds / len(text) * 1e6,
            "sentences": len(result.sentences), "visible_in_sentences": in_sentences,
            "visible": visible,
            "label": result.label, "needs_review": result.needs_review,
            "rss_before_mb": base, "peak_rss_mb": peak, "peak_over_load_mb": peak - base}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def long_documents(name: str, data: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        proc = subprocess.run([sys.executable, __file__, "--worker", name, "--size", str(size),
                               "--data", str(data)], capture_output=True, text=True,
                              check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


def mixed_rule(name: str) -> dict[str, Any]:
    import frankly

    config = frankly.Analyzer(name, explain=False).model.config
    return config.get("mixed", {"threshold": config.get("mixed_threshold")})


def run(data: Path, systems: list[str], sizes: list[int], limit: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in systems:
        print(f"documents: {name} ...", file=sys.stderr, flush=True)
        out[name] = {"faithfulness": faithfulness(name, data, limit),
                     "long": long_documents(name, data, sizes), "mixed": mixed_rule(name)}
    return out


def markdown(results: dict[str, Any]) -> str:
    lines = ["## Documents: evidence, long texts, mixed", ""]
    lines += [f"Faithfulness: the top evidence span of each dev text is deleted and the text "
              f"analysed again; it counts when the probability of the text's top label went "
              f"down (target >= {FAITHFUL_TARGET:.0%}; up to {FAITHFUL_LIMIT} texts per set).",
              "", "| Model | Dev set | Texts | With evidence | Label probability lowered | "
              "Labelled mixed | Texts/s with evidence |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        for set_name, f in r["faithfulness"].items():
            if set_name == "all":
                status = "PASS" if f["rate"] >= FAITHFUL_TARGET else "FAIL"
                lines.append(f"| {name} | **all** | {f['n']} | | **{f['rate']:.1%}** "
                             f"({status}) | | |")
            else:
                lines.append(f"| {name} | {set_name} | {f['n']} | {f['with_evidence']} | "
                             f"{f['rate']:.1%} | {f['mixed']} | "
                             f"{f['texts_per_s_with_evidence']:,.0f} |")
    lines += ["", "Long documents (one text of dev sentences, analysed whole in a fresh "
              "process; memory is the peak resident memory during the call over the memory "
              "just before it, sampled every 5 ms; the Result itself holds every sentence):",
              "",
              "| Model | Characters | Seconds | µs per character | Sentences | "
              "Non-space characters inside a sentence | Peak memory during the call (MB) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        for row in r["long"]:
            lines.append(f"| {name} | {row['size']:,} | {row['seconds']:.2f} | "
                         f"{row['us_per_char']:.1f} | {row['sentences']:,} | "
                         f"{row['visible_in_sentences']:,} of {row['visible']:,} | "
                         f"{row['peak_over_load_mb']:.0f} |")
    lines += ["", "Mixed rule (chosen on dev documents, stored in the model config):", ""]
    for name, r in results.items():
        m = r["mixed"]
        if m.get("precision") is None:
            lines.append(f"- {name}: threshold {m.get('threshold')} (no dev measurement stored)")
        else:
            lines.append(f"- {name}: a sentence positive >= {m['threshold']:.2f} and another "
                         f"negative >= {m['threshold']:.2f}; on {m['n']:,} two-sentence dev "
                         f"documents ({m['n_mixed']:,} mixed) precision {m['precision']:.3f}, "
                         f"recall {m['recall']:.3f}, F1 {m['f1']:.3f}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--systems", default="accurate,fast")
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    ap.add_argument("--limit", type=int, default=FAITHFUL_LIMIT)
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(long_worker(args.worker, args.data, args.size)))
        return 0
    results = run(args.data, [s for s in args.systems.split(",") if s],
                  [int(s) for s in args.sizes.split(",")], args.limit)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
