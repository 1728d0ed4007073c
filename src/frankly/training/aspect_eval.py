"""Aspect scores: term extraction F1 (exact character spans) and polarity accuracy on the
gold terms, as SemEval-2014 Task 4 counts them (polarity over positive, negative and
neutral terms; "conflict" terms count for extraction only)."""

from __future__ import annotations

from typing import Iterable, Sequence

from frankly.training.absa import AspectSentence


def extraction_counts(gold: Iterable[tuple[int, int]], found: Iterable[tuple[int, int]]
                      ) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one sentence."""
    g, f = set(gold), set(found)
    return len(g & f), len(f - g), len(g - f)


def f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def score_torch(model, tok, dev: dict[str, Sequence[AspectSentence]],  # type: ignore[no-untyped-def]
                batch_size: int = 64) -> dict[str, float]:
    """Scores of a training-time multitask model (torch) on each dev domain."""
    import torch

    from frankly.aspects.spans import tag_spans
    from frankly.text.normalize import normalize_with_offsets
    from frankly.training.aspect_finetune import _pad, encode_sentence

    out: dict[str, float] = {}
    model.eval()
    for domain, sentences in dev.items():
        tp = fp = fn = right = total = 0
        with torch.inference_mode():
            for start in range(0, len(sentences), batch_size):
                part = sentences[start:start + batch_size]
                mapped = [normalize_with_offsets(s.text, emoji=True) for s in part]
                encs = [tok.encode(m.text) for m in mapped]
                ids, mask = _pad([e.ids for e in encs])
                hidden = model.states(ids, mask)
                tags = model.tagger(hidden).argmax(-1).tolist()
                for b, (s, m, enc) in enumerate(zip(part, mapped, encs)):
                    spans = [None if special or y <= x else m.span(x, y)
                             for (x, y), special in zip(enc.offsets, enc.special_tokens_mask)]
                    found = tag_spans(tags[b][:len(enc.ids)], spans, s.text)
                    a, c, d = extraction_counts([(t.start, t.end) for t in s.terms], found)
                    tp, fp, fn = tp + a, fp + c, fn + d
                    for idx, polarity in encode_sentence(tok, s).terms:
                        guess = int(model.polarity(hidden[b, idx].mean(0)).argmax())
                        right += guess == polarity
                        total += 1
        scores = f1(tp, fp, fn)
        out[f"{domain}_extraction_f1"] = scores["f1"]
        out[f"{domain}_extraction_precision"] = scores["precision"]
        out[f"{domain}_extraction_recall"] = scores["recall"]
        out[f"{domain}_polarity_accuracy"] = right / total if total else 0.0
    return out


SECTION = "## Aspects"


def read_dev(model, sentences: Sequence[AspectSentence], batch_size: int = 64  # type: ignore[no-untyped-def]
             ) -> tuple[list[list[float]], list[int], tuple[int, int, int]]:
    """One pass of a shipped-format model with aspect heads over ``sentences``: the
    polarity head's logits at each gold term (positive, negative or neutral), their gold
    label indices, and the tagger's extraction counts (tp, fp, fn)."""
    import numpy as np

    from frankly.aspects.spans import tag_spans

    logits, gold = [], []
    tp = fp = fn = 0
    classes = list(model.classes_)
    for start in range(0, len(sentences), batch_size):
        part = sentences[start:start + batch_size]
        _, _, words = model.predict_tokens([s.text for s in part])
        for s, w in zip(part, words):
            tokens = w.aspects
            spans = tokens.spans
            found = tag_spans(tokens.tags.argmax(1).tolist(),
                              [tuple(x) if x[0] >= 0 else None for x in spans.tolist()], s.text)
            a, b, c = extraction_counts([(t.start, t.end) for t in s.terms], found)
            tp, fp, fn = tp + a, fp + b, fn + c
            for t in s.terms:
                if t.polarity not in classes:
                    continue
                inside = (spans[:, 0] >= 0) & (spans[:, 0] < t.end) & (spans[:, 1] > t.start)
                row = tokens.polarity[inside].mean(0) if inside.any() else np.zeros(len(classes))
                logits.append(row.tolist())
                gold.append(classes.index(t.polarity))
    return logits, gold, (tp, fp, fn)


def render_section(config: dict) -> str:  # type: ignore[type-arg]
    info = config.get("aspects")
    if not info:
        return ""
    rows = "\n".join(f"| {d} | {m['extraction_precision']:.3f} | {m['extraction_recall']:.3f} "
                     f"| {m['extraction_f1']:.3f} | {m['polarity_accuracy']:.3f} | {m['terms']} |"
                     for d, m in info["dev"].items())
    return f"""{SECTION}
Two heads read the encoder's token states beside the sentiment head: `aspect_tags` marks
each token as the beginning, inside or outside of an aspect term, and `aspect_polarity`
gives the sentiment towards a term (its logits averaged over the term's tokens, then a
temperature of {config['aspect_temperature']:.2f} fitted on the dev split below). They were
trained on {info['training']}.

Measured on a fixed dev split of the SemEval-2014 Task 4 train files (about 1 sentence in
5 by sentence id; no licence is stated for that data, so it trains nothing shipped, and
it chose the epoch and the blend): extraction with exact spans by the tagger alone (the
Analyzer also matches the taxonomy's seed terms and drops words for the reviewed thing as
a whole; `benchmarks/RESULTS.md` measures that), polarity on the gold terms.

| domain | extraction P | R | F1 | polarity accuracy | gold terms |
|---|---|---|---|---|---|
{rows}

"""


def write_aspects(model_dir, data, training: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """Fit the aspect temperature on the SemEval-2014 dev split, measure the heads there,
    and store both in config.json and MODEL_CARD.md (re-checksummed)."""
    import json
    from pathlib import Path

    import numpy as np

    from frankly.calibration import fit_temperature
    from frankly.models.artifacts import CONFIG
    from frankly.models.registry import build_model
    from frankly.training.absa import semeval2014_split
    from frankly.training.package import put_card_section

    model_dir = Path(model_dir)
    config = json.loads((model_dir / CONFIG).read_text())
    model = build_model(model_dir, config)
    if not getattr(model, "has_aspects", False):
        raise ValueError(f"{model_dir}: the model has no aspect heads")
    read = {d: read_dev(model, semeval2014_split(Path(data), d)[1])
            for d in ("restaurants", "laptops")}
    temperature = fit_temperature(np.array([z for r in read.values() for z in r[0]]),
                                  np.array([y for r in read.values() for y in r[1]]))
    measured = {}
    for domain, (z, y, (tp, fp, fn)) in read.items():
        scores = f1(tp, fp, fn)
        measured[domain] = {"extraction_precision": scores["precision"],
                            "extraction_recall": scores["recall"],
                            "extraction_f1": scores["f1"],
                            "polarity_accuracy": float(np.mean(np.argmax(z, 1) == np.array(y))),
                            "terms": tp + fn}
    config["aspect_temperature"] = temperature
    config["aspects"] = {"training": training, "dev": measured}
    (model_dir / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    put_card_section(model_dir, SECTION, render_section(config))
    return {"temperature": temperature, "dev": measured}
