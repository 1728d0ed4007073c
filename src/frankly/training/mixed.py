"""Choose the "mixed" threshold on dev data, and describe the rule for the model card.

A text is labelled mixed when one of its sentences scores positive at least ``t`` and
another negative at least ``t``. There is no dev set of mixed documents, so we build one
from the dev sets' single-label texts: two texts joined into a two-sentence document are
mixed when one is gold positive and the other gold negative, and not mixed for every other
pair (positive+positive, negative+neutral, ...). ``t`` is the threshold with the best F1
for the mixed class on those documents, from 0.50 up.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Sequence

from frankly.text.sentences import split_sentences


Example = tuple[str, str]
PAIRS_PER_KIND = 200   # documents per (first, second) gold-label combination
# 0.50 .. 0.95: "confidently" positive means at least the majority of the probability (on
# the dev documents F1 is flat from 0.40 to 0.50, so the floor costs little).
THRESHOLDS = [round(0.50 + 0.01 * i, 2) for i in range(46)]
SECTION = "## Documents: sentences and mixed"


def mixed_documents(dev_sets: dict[str, Sequence[Example]], seed: int = 13
                    ) -> list[tuple[str, bool]]:
    """Two-sentence documents from dev texts, and whether each is mixed by its gold labels."""
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {"positive": [], "negative": [], "neutral": []}
    for examples in dev_sets.values():
        for text, label in examples:
            text = " ".join(text.split())
            # One sentence each, so the document's two sentences are the two gold labels.
            if 20 <= len(text) <= 200 and len(split_sentences(text)) == 1:
                pools[label].append(text)
    docs = []
    for first in pools:
        for second in pools:
            for _ in range(PAIRS_PER_KIND):
                a, b = rng.choice(pools[first]), rng.choice(pools[second])
                if a[-1] not in ".!?":
                    a += "."
                docs.append((f"{a} {b[:1].upper()}{b[1:]}",
                             {first, second} == {"positive", "negative"}))
    return docs


def choose_mixed_threshold(analyzer: Any, docs: Sequence[tuple[str, bool]]
                           ) -> dict[str, Any]:
    """The threshold with the best mixed-class F1 on ``docs``, with its precision/recall."""
    peaks = []
    for result in analyzer.analyze_many([t for t, _ in docs]):
        pos = max((s.scores["positive"] for s in result.sentences), default=0.0)
        neg = max((s.scores["negative"] for s in result.sentences), default=0.0)
        peaks.append(min(pos, neg))
    gold = [m for _, m in docs]
    best: dict[str, Any] = {}
    curve = []
    for t in THRESHOLDS:
        pred = [p >= t for p in peaks]
        tp = sum(p and g for p, g in zip(pred, gold))
        fp = sum(p and not g for p, g in zip(pred, gold))
        fn = sum(g and not p for p, g in zip(pred, gold))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        curve.append((t, round(precision, 3), round(recall, 3), round(f1, 3)))
        if not best or f1 > best["f1"]:
            best = {"threshold": t, "f1": f1, "precision": precision, "recall": recall}
    best.update(n=len(docs), n_mixed=sum(gold), curve=curve,
                chunk_chars=analyzer.model.chunk_chars,
                method=f"best mixed-class F1 over thresholds {THRESHOLDS[0]}-{THRESHOLDS[-1]} "
                       f"on {len(docs)} two-sentence documents built from dev texts "
                       f"({PAIRS_PER_KIND} per pair of gold labels; mixed = one positive and "
                       f"one negative)")
    return best


def render_section(config: dict[str, Any]) -> str:
    mixed = config.get("mixed")
    if not mixed:
        return ""
    whole = ("and the text as a whole" if config.get("kind") == "transformer" else
             "and the text's scores pool its sentences' features")
    return f"""{SECTION}
Every text is split into sentences; each sentence is scored on its own, {whole}
(texts longer than {mixed.get('chunk_chars', '?')} characters are read in sentence chunks
whose token scores are pooled, so nothing is truncated). The document label
is **mixed** when one sentence scores positive ≥ {mixed['threshold']:.2f} and another negative
≥ {mixed['threshold']:.2f}; the scores stay over positive, negative and neutral. The threshold
was chosen by {mixed['method']}: there, mixed precision {mixed['precision']:.3f}, recall
{mixed['recall']:.3f}, F1 {mixed['f1']:.3f}.

"""


def write_mixed(model_dir: Path, result: dict[str, Any]) -> None:
    """Store the threshold in config.json, the rule in MODEL_CARD.md, and re-checksum."""
    from frankly.models.artifacts import CONFIG
    from frankly.training.package import put_card_section

    config = json.loads((model_dir / CONFIG).read_text())
    config["mixed_threshold"] = result["threshold"]
    config["mixed"] = result
    (model_dir / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    put_card_section(model_dir, SECTION, render_section(config))
