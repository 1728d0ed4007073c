"""Evidence: the spans of a text that drove its label, most influential first.

Both models pool additive per-token scores (see :class:`frankly.models.base.WordScores`),
so each word's share of the document's logits is known exactly. A word's *support* for a
label is its share for that label minus its mean share for the others, measured against
an average token of the same text (a word that merely repeats the text's overall tone,
as every token of a transformer partly does, gets little credit). Candidate spans are
runs of up to :data:`MAX_SPAN_WORDS` adjacent supporting words in one sentence; the
Analyzer then checks the best candidates by deleting them and re-scoring the text, and
puts first the one whose removal lowers the label's probability (faithfulness, measured
in ``benchmarks/``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frankly.models.base import WordScores

# Measured on 600 TweetEval val tweets (top span deleted, label probability lowered):
# single words 82%, runs of up to 2 words 85%, up to 3 words 89%, before the check below.
MAX_SPAN_WORDS = 3
MAX_EVIDENCE = 5        # supporting spans listed
MAX_OPPOSING = 2        # spans pulling the other way, listed after them
CANDIDATES_CHECKED = 3  # deletion checks, one round each, only while none lowered the label


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    support: float   # share of the doc logits for the label, net of the other labels
    polarity: float  # positive minus negative share, in calibrated logit units


def merge(ws: list[WordScores]) -> WordScores:
    """One WordScores for a text analysed in pieces (spans already in the text's offsets)."""
    if len(ws) == 1:
        return ws[0]
    return WordScores(
        spans=np.concatenate([w.spans for w in ws]).reshape(-1, 2),
        raw=np.concatenate([w.raw for w in ws]),
        counts=np.concatenate([w.counts for w in ws]),
        rest=np.sum([w.rest for w in ws], axis=0),
        rest_count=float(sum(w.rest_count for w in ws)),
        bias=ws[0].bias)


def candidates(ws: WordScores, label: int, classes: tuple[str, ...], pool_power: float,
               temperature: float, sentence_of: np.ndarray) -> tuple[list[Candidate],
                                                                       list[Candidate]]:
    """Supporting spans (best first) and opposing single words (strongest first)."""
    ws, sentence_of = _collapse(ws, sentence_of)
    n_words = len(ws.counts)
    if n_words == 0:
        return [], []
    total = ws.counts.sum() + ws.rest_count
    average = (ws.raw.sum(0) + ws.rest) / max(total, 1.0)
    share = (ws.raw - average * ws.counts[:, None]) / max(total, 1.0) ** pool_power
    others = [c for c in range(len(classes)) if c != label]
    support = share[:, label] - share[:, others].mean(1)
    polarity = (share[:, classes.index("positive")]
                - share[:, classes.index("negative")]) / temperature
    windows: list[tuple[float, int, int]] = []
    for i in np.flatnonzero(support > 0):
        acc = 0.0
        for j in range(i, min(i + MAX_SPAN_WORDS, n_words)):
            if support[j] <= 0 or sentence_of[j] != sentence_of[i]:
                break
            acc += support[j]
            windows.append((acc, i, j + 1))
    windows.sort(key=lambda w: -w[0])
    taken = np.zeros(n_words, dtype=bool)
    chosen: list[Candidate] = []
    for score, i, j in windows:
        if taken[i:j].any():
            continue
        taken[i:j] = True
        chosen.append(Candidate(int(ws.spans[i, 0]), int(ws.spans[j - 1, 1]), float(score),
                                float(polarity[i:j].sum())))
        if len(chosen) == MAX_EVIDENCE:
            break
    opposing = [Candidate(int(ws.spans[i, 0]), int(ws.spans[i, 1]), float(support[i]),
                          float(polarity[i]))
                for i in np.argsort(support)[:MAX_OPPOSING] if support[i] < 0]
    return chosen, opposing


def _collapse(ws: WordScores, sentence_of: np.ndarray) -> tuple[WordScores, np.ndarray]:
    """Merge adjacent words that share one span of the text (an emoji spelt out as its
    name, a link read as "http")."""
    spans = ws.spans
    if len(spans) < 2:
        return ws, sentence_of
    new = np.concatenate(([True], (spans[1:] != spans[:-1]).any(1)))
    if new.all():
        return ws, sentence_of
    group = np.cumsum(new) - 1
    raw = np.zeros((int(group[-1]) + 1, ws.raw.shape[1]))
    np.add.at(raw, group, ws.raw)
    counts = np.bincount(group, weights=ws.counts)
    return (WordScores(spans=spans[new], raw=raw, counts=counts, rest=ws.rest,
                       rest_count=ws.rest_count, bias=ws.bias), sentence_of[new])


@dataclass(frozen=True)
class TermShift:
    """A user term found at ``[start, end)`` that shifts the logits by ``weight``."""

    start: int
    end: int
    weight: float


def shift_vector(hits: list[TermShift], classes: tuple[str, ...],
                 temperature: float = 1.0) -> np.ndarray:
    """Logit shift of term hits: a positive weight raises the positive logit above both
    others by that much, a negative one the negative logit. Weights are in calibrated
    units (as evidence weights are), so the raw shift is the weight times the temperature."""
    out = np.zeros(len(classes))
    for h in hits:
        out[classes.index("positive" if h.weight > 0 else "negative")] += abs(h.weight)
    return out * temperature
