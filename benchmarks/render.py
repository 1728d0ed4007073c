"""Turn the results dict of run.py into RESULTS.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CLASS_NOTES = {
    "frankly": "the `label` of each `Result`: the class with the highest calibrated "
               "probability (`needs_review` does not change the label).",
    "vader": "`SentimentIntensityAnalyzer().polarity_scores(text)['compound']` with VADER's "
             "documented thresholds: >= 0.05 positive, <= -0.05 negative, otherwise neutral.",
    "textblob": "the sign of `TextBlob(text).sentiment.polarity` (default PatternAnalyzer): "
                "> 0 positive, < 0 negative, exactly 0 neutral. No threshold was tuned; "
                "polarity is 0 whenever no lexicon word occurs, so TextBlob says neutral often.",
}


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join({"l": ":---", "r": "---:", "c": ":---:"}[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def put_section(path: Path, heading: str, text: str) -> None:
    """Replace the section of ``path`` whose title starts ``## {heading} (`` with ``text``
    (or append it): each script rewrites its own section of RESULTS.md, the rest stays."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start = old.find(f"\n## {heading} (")
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + 1)
        new = old[:start + 1] + text + ("" if end < 0 else "\n" + old[end + 1:])
    path.write_text(new, encoding="utf-8")


def _key(heading_line: str) -> str:
    """A section's identity: its title up to " (" (the rest says what was measured)."""
    return heading_line[3:].split(" (")[0].strip()


def with_other_sections(old: str, new: str) -> str:
    """``new`` followed by the ``## `` sections of ``old`` that ``new`` has no section of:
    run.py rewrites its own sections and keeps those the other scripts wrote (service,
    dashboard, batch)."""
    ours = {_key(line) for line in new.splitlines() if line.startswith("## ")}
    kept = []
    for chunk in ("\n" + old).split("\n## ")[1:]:
        heading = "## " + chunk.splitlines()[0]
        if _key(heading) not in ours:
            kept.append("## " + chunk.rstrip("\n") + "\n")
    return new.rstrip("\n") + "\n" + "".join("\n" + k for k in kept) if kept else new


def _ok(systems: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in systems.items() if v["status"] == "ok"}


def markdown(results: dict[str, Any]) -> str:
    meta, settings = results["meta"], results["settings"]
    systems, ok = results["systems"], _ok(results["systems"])
    versions = meta["versions"]
    out = ["# Frankly benchmarks", "",
           "Written by `benchmarks/run.py`; do not edit by hand. Raw numbers: `results.json` "
           "beside this file. What each number means: `benchmarks/README.md`.", ""]
    if settings["limit"] is not None:
        out += [f"> **Quick run on a sample** (`--limit {settings['limit']}`): a seeded random "
                f"{settings['limit']} texts of each dev set. These numbers do not check the "
                f"targets; run without `--limit` for that.", ""]
    load = (f"{meta['load_average_at_start']:.2f} at start, "
            f"{meta['load_average_at_end']:.2f} at end")
    out += ["## Setup", "",
            f"- Date: {meta['date']}",
            f"- Machine: {meta['cpu']}, {meta['cores']} cores; 1-minute load average {load} "
            f"(above ~0.5 means other processes shared the CPU and speeds are understated)",
            f"- Python {meta['python']}, onnxruntime {versions['onnxruntime']}, "
            f"tokenizers {versions['tokenizers']}, numpy {versions['numpy']}, "
            f"vaderSentiment {versions['vaderSentiment']}, textblob {versions['textblob']}",
            f"- Frankly {versions['frankly']}, git {meta['git']}"
            + (f", FRANKLY_THREADS={meta['frankly_threads_env']}"
               if meta["frankly_threads_env"] else ""),
            f"- Reproduce (from the repository root): `{meta['command']}`",
            f"- Whole run: {meta['total_s']:.0f} s", ""]
    for name, system in systems.items():
        if system["status"] == "skipped":
            out += [f"> **{name} skipped**: {system['reason']}. Its rows are missing below and "
                    f"its targets read SKIP; rerun once it exists.", ""]
        elif system["status"] == "error":
            out += [f"> **{name} failed**: {system['reason']} (full stderr in results.json).",
                    ""]

    out += ["## Targets", ""]
    out += _table(["Target", "Goal", "Measured", "Status"],
                  [[t["target"], t["goal"], t["measured"], f"**{t['status']}**"]
                   for t in results["targets"]], "lllc")
    out += [""]

    out += ["## Accuracy per dev set", "",
            "Three classes (negative, neutral, positive). Macro scores average the classes "
            "present, unweighted. Δ F1 is the system's macro-F1 minus VADER's on that set.", ""]
    vader = ok.get("vader")
    first = next(iter(ok.values()), None)
    for dataset in (first["datasets"] if first else {}):
        n = first["datasets"][dataset]["n"]
        out += [f"### {dataset} (n = {n:,})", ""]
        rows = []
        for name, system in ok.items():
            r = system["datasets"][dataset]
            delta = ("–" if vader is None or name == "vader" else
                     f"{r['macro_f1'] - vader['datasets'][dataset]['macro_f1']:+.3f}")
            rows.append([name, f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}",
                         f"{r['macro_recall']:.3f}", delta, f"{r['n']:,}"])
        out += _table(["System", "Accuracy", "Macro-F1", "Macro-recall", "Δ F1 vs VADER", "n"],
                      rows, "lrrrrr")
        out += [""]

    calibrated = {name: system["calibration"] for name, system in ok.items()
                  if "calibration" in system}
    if calibrated:
        out += ["## Calibration and needs_review", "",
                "Expected calibration error (top label, 15 bins) with raw scores (T = 1) and "
                "after the model's temperature, fitted on TweetEval val at build time (so the "
                "TweetEval val row is in-sample; the model cards also give a cross-fitted "
                "figure). Flagged: confidence below the model's review threshold.", ""]
        rows = []
        for name, per_set in calibrated.items():
            for dataset, c in per_set.items():
                rows.append([name, dataset, f"{c['temperature']:.2f}", f"{c['ece_before']:.3f}",
                             f"{c['ece_after']:.3f}", f"{c['review_threshold']:.2f}",
                             f"{c['share_flagged']:.1%}", f"{c['error_rate_flagged']:.1%}",
                             f"{c['error_rate_unflagged']:.1%}"])
        out += _table(["Model", "Dev set", "T", "ECE before", "ECE after", "Threshold",
                       "Flagged", "Error flagged", "Error unflagged"], rows, "llrrrrrrr")
        out += [""]

    n_speed = first["throughput"]["n_texts"] if first else 0
    n_latency = first["latency"]["n"] if first else 0
    out += ["## Speed and memory", "",
            f"Texts/s: median of {settings['repeats']} timings (each >= "
            f"{settings['min_time_s']:g} s of whole passes) over the {n_speed:,} TweetEval val "
            f"texts, after a warm-up pass; batch path, Frankly via "
            f"`analyze_many(texts, batch_size=64)` with evidence (the default), with "
            f"`Analyzer(model, explain=False)`, document-level with "
            f"`Analyzer(model, explain=False, sentences=False, aspects=False)` (no "
            f"per-sentence scores, never mixed, no aspects; urgency on) and sentiment only "
            f"with `urgency=False` too; urgency and aspects on in the first two (the "
            f"default). Load: import, model load and a first "
            f"one-text call. Latency: {n_latency} texts, one per call. Each system ran alone "
            f"in its own fresh process.", ""]
    rows = []
    for name, system in ok.items():
        tp, lat = system["throughput"], system["latency"]
        plain = system.get("throughput_no_evidence")
        whole = system.get("throughput_document")
        alone = system.get("throughput_sentiment")
        rows.append([name, f"{tp['texts_per_s']:,.0f}",
                     f"{plain['texts_per_s']:,.0f}" if plain else "-",
                     f"{whole['texts_per_s']:,.0f}" if whole else "-",
                     f"{alone['texts_per_s']:,.0f}" if alone else "-", f"{system['load_s']:.2f}",
                     f"{system['rss_after_load_mb']:.0f}", f"{system['peak_rss_mb']:.0f}",
                     f"{lat['p50_ms']:.2f}", f"{lat['p95_ms']:.2f}"])
    out += _table(["System", "Texts/s", "Texts/s no evidence", "Texts/s document-level",
                   "Texts/s sentiment only", "Load s", "RSS after load MB", "Peak RSS MB",
                   "p50 ms (1 text)", "p95 ms (1 text)"], rows, "lrrrrrrrrr")
    out += [""]
    speed = results["ratios"].get("speed_vs_vader", {})
    for name, ratio in speed.items():
        out += [f"- Frankly {name} texts/s ÷ VADER texts/s = **{ratio:.3g}** "
                "(default settings, evidence on)"]
    if speed:
        out += [""]

    imp = results["import"]
    loaded = imp["heavy_modules_loaded"]
    out += ["## `import frankly`", "",
            f"- {imp['import_frankly_s'] * 1000:.0f} ms: median of "
            f"{len(imp['import_frankly_process_s'])} fresh `python -c \"import frankly\"` "
            f"processes minus the median of as many `python -c \"pass\"`.",
            f"- Heavy modules in `sys.modules` after `import frankly` "
            f"(checked: {', '.join(imp['heavy_modules_checked'])}): "
            + (f"**{', '.join(loaded)} (should not be)**" if loaded else "none."), ""]

    out += ["## How each system's three classes are derived", ""]
    ours = [name for name in systems if name not in CLASS_NOTES]
    if ours:
        out += [f"- **{', '.join(ours)}** (Frankly): {CLASS_NOTES['frankly']}"]
    out += [f"- **{name}**: {CLASS_NOTES[name]}" for name in systems if name in CLASS_NOTES]
    out += [""]
    return "\n".join(out)
