"""The learned half of urgency: a multinomial logistic regression over words and phrases.

Classes are "none" and the urgency categories. Its features are the message's words and
word pairs (folded as the phrase matcher folds them) and one feature per urgency category
whose phrases occur (and one for "no rush" phrases), so the model learns how much each
phrase family counts and what else in a message points to urgency. The urgency score is
``1 - P(none)`` after temperature scaling, then Platt scaling (``sigmoid(a * logit + b)``),
both fitted on out-of-fold predictions, so a score of 0.8 is right about 80% of the time.

Stored as ``model.json`` (vocabulary, classes, temperature, threshold, provenance) and
``weights.npy`` (float32, features x classes; the last row is the bias), no pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from frankly.errors import ModelError

NONE = "none"
CATEGORIES: tuple[str, ...] = ("safety", "security", "billing", "outage", "legal", "churn",
                               "deadline", "escalation")
"""The urgency categories, in the order of issue 4."""
CALM = "calm"  # "no rush", "not urgent", thanks...: phrases that lower urgency

CATEGORY_NAMES: dict[str, str] = {
    "safety": "safety or health risk",
    "security": "account security or fraud",
    "billing": "money lost or billing error",
    "outage": "service down or product not working",
    "legal": "legal or regulatory threat",
    "churn": "cancellation or churn threat",
    "deadline": "deadline or time pressure",
    "escalation": "repeated contact or escalation request",
}

PHRASE_FEATURE = "@phrase:"    # + category: a phrase of that category occurs (not negated)
NEGATED_FEATURE = "@negated:"  # + category: a phrase of that category occurs, negated
MODEL_JSON = "model.json"
WEIGHTS = "weights.npy"


def features(ws: Sequence[str], categories: Iterable[str], negated: Iterable[str],
             calm: bool) -> list[str]:
    """Feature names of one message: words, word pairs and phrase families."""
    out = list(ws)
    out += [f"{a} {b}" for a, b in zip(ws, ws[1:])]
    out += [PHRASE_FEATURE + c for c in set(categories)]
    out += [NEGATED_FEATURE + c for c in set(negated)]
    if calm:
        out.append(PHRASE_FEATURE + CALM)
    return out


@dataclass
class UrgencyModel:
    vocabulary: dict[str, int]
    classes: tuple[str, ...]
    weights: np.ndarray           # (len(vocabulary) + 1, len(classes)); last row: bias
    temperature: float
    threshold: float
    info: dict
    platt: tuple[float, float] = (1.0, 0.0)  # slope and intercept on the score's logit

    @classmethod
    def load(cls, directory: Path) -> "UrgencyModel":
        try:
            meta = json.loads((directory / MODEL_JSON).read_text(encoding="utf-8"))
            weights = np.load(directory / WEIGHTS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load the urgency model from {directory}: {exc}") from exc
        vocabulary = {name: i for i, name in enumerate(meta["vocabulary"])}
        if weights.shape != (len(vocabulary) + 1, len(meta["classes"])):
            raise ModelError(f"{directory / WEIGHTS}: shape {weights.shape} does not match "
                             f"{len(vocabulary)} features and {len(meta['classes'])} classes")
        a, b = meta.get("platt", (1.0, 0.0))
        return cls(vocabulary, tuple(meta["classes"]), weights.astype(np.float32),
                   float(meta["temperature"]), float(meta["threshold"]),
                   {k: v for k, v in meta.items() if k not in ("vocabulary", "platt")},
                   (float(a), float(b)))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {**self.info, "classes": list(self.classes), "temperature": self.temperature,
                "platt": list(self.platt), "threshold": self.threshold, "vocabulary": names}
        (directory / MODEL_JSON).write_text(json.dumps(meta, ensure_ascii=False, indent=1)
                                            + "\n", encoding="utf-8")
        np.save(directory / WEIGHTS, self.weights.astype(np.float32), allow_pickle=False)

    def __post_init__(self) -> None:
        # Word pairs by first word, so a message's pairs are looked up without building
        # a string for each (most pairs are not in the vocabulary).
        self._pairs: dict[str, dict[str, int]] = {}
        for name, i in self.vocabulary.items():
            if " " in name and not name.startswith("@"):
                a, b = name.split(" ", 1)
                self._pairs.setdefault(a, {})[b] = i

    def indices(self, names: Iterable[str]) -> list[int]:
        """Indices of the features present (each once: the model reads presence)."""
        get = self.vocabulary.get
        return list({i for i in (get(n) for n in names) if i is not None})

    def row(self, ws: Sequence[str], categories: Iterable[str], negated: Iterable[str],
            calm: bool) -> list[int]:
        """``indices(features(...))``, without building the names of the word pairs."""
        get = self.vocabulary.get
        found = {i for i in map(get, ws) if i is not None}
        pairs = self._pairs
        for a, b in zip(ws, ws[1:]):
            following = pairs.get(a)
            if following is not None:
                i = following.get(b)
                if i is not None:
                    found.add(i)
        for name in [*(PHRASE_FEATURE + c for c in categories),
                     *(NEGATED_FEATURE + c for c in negated),
                     *([PHRASE_FEATURE + CALM] if calm else [])]:
            i = get(name)
            if i is not None:
                found.add(i)
        return list(found)

    def logits(self, rows: Sequence[Sequence[int]]) -> np.ndarray:
        """Logits of messages given as lists of feature indices (one call per batch)."""
        bias = self.weights[-1]
        out = np.tile(bias, (len(rows), 1))
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        if lengths.sum():
            flat = np.fromiter((i for r in rows for i in r), dtype=np.int64,
                               count=int(lengths.sum()))
            owner = np.repeat(np.arange(len(rows)), lengths)
            np.add.at(out, owner, self.weights[flat])
        return out

    def scores(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated urgency scores from class probabilities: Platt scaling of
        ``1 - P(none)``."""
        urgent = np.clip(1.0 - probabilities[:, self.classes.index(NONE)], 1e-7, 1 - 1e-7)
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * np.log(urgent / (1.0 - urgent)) + b)))

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        z = logits / self.temperature
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)
