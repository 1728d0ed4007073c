"""Train the urgency model (``frankly.urgency.model``) with numpy only.

Data: labelled messages as ``(text, language, category)`` where category is "none" for a
message that is not urgent. The shipped model learns from the messages the Frankly team
wrote (``training-data/urgency-written.tsv``); see ``scripts/train_urgency.py``.

Multinomial logistic regression, L2-regularised, fitted by full-batch Adam; the L2
strength is chosen by stratified cross-validation (out-of-fold log loss of urgent vs not),
and the temperature and Platt scaling are fitted on the same out-of-fold predictions, so
the shipped scores are calibrated on messages the model did not learn from.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from frankly.errors import DataError
from frankly.urgency.detector import LANGUAGES, shipped_phrases, signals
from frankly.urgency.model import CATEGORIES, NONE, PHRASE_FEATURE, UrgencyModel, features
from frankly.urgency.phrases import PhraseSet, words

CLASSES: tuple[str, ...] = (NONE, *CATEGORIES)
MIN_COUNT = 2            # a word or pair must occur in this many training messages
# Words in more than this share of the messages ("the", "and", "y", "mon") are left out:
# with a thousand examples they learn the mix of the training set, not urgency.
MAX_DOCUMENT_SHARE = 0.12
# Phrase families are penalised less than words: they were written to mean urgency, and
# the words of a thousand examples should refine them, not outvote them.
PHRASE_PENALTY = 0.1
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # per-message L2 strength tried in cross-validation
STEPS = 400
LEARNING_RATE = 0.05
FOLDS = 5
# The urgent threshold on calibrated scores: the one of these with the best out-of-fold
# accuracy (ties go to the one nearest 0.5). Calibration fits the likelihood, not the
# decision: on our messages a threshold under 0.5 was right more often, and a missed
# urgent message costs a business more than one extra look.
THRESHOLD_GRID = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    category: str  # "none" or one of CATEGORIES


def read_examples(path: Path) -> list[Example]:
    """Rows ``id, language, urgent, category, text`` (TSV with a header)."""
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh, delimiter="\t"), start=2):
            try:
                urgent = row["urgent"].strip() == "1"
                category = row["category"].strip() if urgent else NONE
                text, language = row["text"], row["language"].strip()
            except (KeyError, AttributeError):
                raise DataError(f"{path}:{line}: expected columns id, language, urgent, "
                                f"category, text") from None
            if urgent and category not in CATEGORIES:
                raise DataError(f"{path}:{line}: unknown category {category!r}")
            out.append(Example(text, language, category))
    return out


def feature_lists(phrases: PhraseSet, examples: Sequence[Example]) -> list[list[str]]:
    """The feature names of each example, exactly as the detector computes them."""
    out = []
    for ex in examples:
        lang = ex.language if ex.language in LANGUAGES else "en"
        ws = words(ex.text)
        _, cats, negated, calm = signals(phrases, ex.text, ws, phrases.match(ws, lang), lang)
        out.append(features(ws, cats, negated, calm))
    return out


def vocabulary(lists: Sequence[Sequence[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for names in lists:
        for n in set(names):
            counts[n] = counts.get(n, 0) + 1
    most = MAX_DOCUMENT_SHARE * len(lists)
    kept = sorted(n for n, c in counts.items()
                  if n.startswith("@") or MIN_COUNT <= c <= most)
    return {n: i for i, n in enumerate(kept)}


def penalties(vocab: dict[str, int]) -> np.ndarray:
    """L2 multiplier of each weight row: words 1, phrase families less, the bias none."""
    out = np.ones(len(vocab) + 1)
    for name, i in vocab.items():
        if name.startswith("@"):
            out[i] = PHRASE_PENALTY
    out[-1] = 0.0
    return out


def design(lists: Sequence[Sequence[str]], vocab: dict[str, int]) -> np.ndarray:
    x = np.zeros((len(lists), len(vocab) + 1), dtype=np.float32)
    for r, names in enumerate(lists):
        for n in names:
            i = vocab.get(n)
            if i is not None:
                x[r, i] = 1.0  # presence, not counts: long e-mails repeat words
    x[:, -1] = 1.0
    return x


def fit(x: np.ndarray, y: np.ndarray, l2: float, n_classes: int, penalty: np.ndarray,
        steps: int = STEPS) -> np.ndarray:
    """Weights (features + bias, classes) minimising mean cross-entropy + l2/n * |W|^2."""
    n, f = x.shape
    w = np.zeros((f, n_classes), dtype=np.float64)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    onehot = np.eye(n_classes)[y]
    reg = penalty[:, None]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = x.T @ (p - onehot) / n + 2 * l2 / n * w * reg
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad ** 2
        w -= LEARNING_RATE * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return w.astype(np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _binary_nll(logits: np.ndarray, urgent: np.ndarray, temperature: float) -> float:
    p = 1.0 - _softmax(logits / temperature)[:, 0]
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(urgent * np.log(p) + (1 - urgent) * np.log(1 - p)))


def folds(labels: Sequence[str], k: int = FOLDS, seed: int = 0) -> list[int]:
    """A stratified fold number for each example."""
    rng = random.Random(seed)
    fold = [0] * len(labels)
    for label in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == label]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def out_of_fold(lists: Sequence[Sequence[str]], y: np.ndarray, l2: float,
                fold: Sequence[int], n_classes: int) -> np.ndarray:
    """Logits of each example from a model trained on the other folds."""
    fold_arr = np.array(fold)
    out = np.zeros((len(lists), n_classes), dtype=np.float32)
    for k in sorted(set(fold)):
        train = np.where(fold_arr != k)[0]
        test = np.where(fold_arr == k)[0]
        vocab = vocabulary([lists[i] for i in train])
        w = fit(design([lists[i] for i in train], vocab), y[train], l2, n_classes,
                penalties(vocab))
        out[test] = design([lists[i] for i in test], vocab) @ w
    return out


def fit_platt(scores: np.ndarray, urgent: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of ``sigmoid(a * logit(score) + b)`` minimising the log loss
    (Newton's method; scores are the temperature-scaled ``1 - P(none)``)."""
    s = np.clip(scores, 1e-7, 1 - 1e-7)
    z = np.log(s / (1 - s))
    a, b = 1.0, 0.0
    for _ in range(50):
        q = 1 / (1 + np.exp(-(a * z + b)))
        grad = np.array([np.sum((q - urgent) * z), np.sum(q - urgent)])
        w = q * (1 - q)
        hess = np.array([[np.sum(w * z * z), np.sum(w * z)], [np.sum(w * z), np.sum(w)]])
        step = np.linalg.solve(hess + 1e-6 * np.eye(2), grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-8:
            break
    return float(a), float(b)


def _platt(scores: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    s = np.clip(scores, 1e-7, 1 - 1e-7)
    return 1 / (1 + np.exp(-(ab[0] * np.log(s / (1 - s)) + ab[1])))


def fit_temperature(logits: np.ndarray, urgent: np.ndarray) -> float:
    grid = np.exp(np.linspace(np.log(0.25), np.log(6.0), 200))
    return float(min(grid, key=lambda t: _binary_nll(logits, urgent, t)))


@dataclass
class Trained:
    model: UrgencyModel
    l2: float
    cv: dict[str, float]          # out-of-fold metrics at the chosen L2, calibrated
    cv_by_l2: dict[float, float]  # out-of-fold log loss by L2


def train(examples: Sequence[Example], phrases: PhraseSet | None = None,
          info: dict | None = None) -> Trained:
    """Choose the L2 strength and temperature by cross-validation, then fit on all."""
    if len({e.category for e in examples}) < 2:
        raise DataError("urgency training needs urgent and non-urgent examples")
    phrases = phrases or PhraseSet(shipped_phrases())
    lists = feature_lists(phrases, examples)
    y = np.array([CLASSES.index(e.category) for e in examples])
    urgent = (y != 0).astype(float)
    fold = folds([e.category for e in examples])
    by_l2: dict[float, tuple[float, np.ndarray]] = {}
    for l2 in L2_GRID:
        oof = out_of_fold(lists, y, l2, fold, len(CLASSES))
        t = fit_temperature(oof, urgent)
        by_l2[l2] = (_binary_nll(oof, urgent, t), oof)
    l2 = min(by_l2, key=lambda k: by_l2[k][0])
    oof = by_l2[l2][1]
    temperature = fit_temperature(oof, urgent)
    probs = _softmax(oof / temperature)
    platt = fit_platt(1.0 - probs[:, 0], urgent)
    score = _platt(1.0 - probs[:, 0], platt)
    accuracy = {t: float(((score >= t) == urgent.astype(bool)).mean()) for t in THRESHOLD_GRID}
    threshold = max(THRESHOLD_GRID, key=lambda t: (round(accuracy[t], 6), -abs(t - 0.5)))
    pred = score >= threshold
    truth = urgent.astype(bool)
    tp = float((pred & truth).sum())
    precision = tp / max(pred.sum(), 1)
    recall = tp / max(truth.sum(), 1)
    category_right = float(np.mean(probs[truth][:, 1:].argmax(1) + 1 == y[truth]))
    cv = {"accuracy": float((pred == truth).mean()), "precision": precision,
          "recall": recall, "f1": 2 * precision * recall / max(precision + recall, 1e-9),
          "category_right": category_right,
          "log_loss": float(-np.mean(urgent * np.log(np.clip(score, 1e-7, 1))
                                     + (1 - urgent) * np.log(np.clip(1 - score, 1e-7, 1)))),
          "log_loss_uncalibrated": _binary_nll(oof, urgent, 1.0), "threshold": threshold,
          "accuracy_by_threshold": accuracy}
    vocab = vocabulary(lists)
    weights = fit(design(lists, vocab), y, l2, len(CLASSES), penalties(vocab))
    model = UrgencyModel(vocab, CLASSES, weights, temperature, threshold,
                         {**(info or {}), "l2": l2, "examples": len(examples)}, platt)
    return Trained(model, l2, cv, {k: v[0] for k, v in by_l2.items()})


__all__ = ["CLASSES", "Example", "PHRASE_FEATURE", "Trained", "read_examples", "train"]
