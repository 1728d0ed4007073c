"""Aspect scores: term extraction F1 (exact character spans) and polarity accuracy on the
gold terms, as SemEval-2014 Task 4 counts them (polarity over positive, negative and
neutral terms; "conflict" terms count for extraction only)."""

from __future__ import annotations

from typing import Iterable, Sequence

from frankly.result import LABELS
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


__all__ = ["extraction_counts", "f1", "score_torch", "LABELS"]
