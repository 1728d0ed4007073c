"""The ``fast`` model: a hashed byte n-gram and word n-gram linear model, numpy only.

Meant for very large volumes: no onnxruntime, no tokenizer, vectorised over whole
batches (see ``hashing.py``). Trains with numpy alone (AdaGrad on the softmax loss).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from frankly.errors import ModelError
from frankly.models.artifacts import CONFIG, write_checksums
from frankly.models.base import BaseModel, WordScores
from frankly.models.hashing import HashingSpec, Lexicon, hash_features, hash_words
from frankly.text.normalize import normalize_with_offsets
from frankly.text.people import People

WEIGHTS = "weights.npz"
LEXICON = "lexicon.tsv"  # only for a model whose hashing reads a lexicon


class FastModel(BaseModel):
    kind = "fast"
    min_batch_size = 512  # measured: ~25% more texts/s than batches of 64
    pool_power = 0.5      # features are summed and divided by the square root of their count
    # No window to fit: chunks only bound memory (and keep sentence offsets cheap).
    chunk_chars = 5000
    chunk_floor = 5000
    # A linear model pooled over its sentences' features reads almost exactly as the whole
    # text (only n-grams across a sentence boundary are lost), so it reads each token once.
    read_whole = False

    def __init__(self, config: dict[str, Any], weights: np.ndarray, bias: np.ndarray,
                 lexicon: Lexicon | None = None) -> None:
        super().__init__(config)
        self.spec = _spec_from_config(config)
        if self.spec.lexicon and lexicon is None:
            raise ModelError(f"{self.name}: its hashing reads a lexicon, and none was given")
        self.lexicon = lexicon if self.spec.lexicon else None
        if weights.shape != (1 << self.spec.bits, len(self.classes_)):
            raise ModelError(f"{self.name}: weights have shape {weights.shape}, expected "
                             f"({1 << self.spec.bits}, {len(self.classes_)})")
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        # Softmax ignores a shift shared by all classes, so scoring relative to class 0
        # saves one gather and one sum per feature; rows are contiguous for fast `take`.
        self._relative = np.ascontiguousarray((self.weights[:, 1:] - self.weights[:, :1]).T)

    @classmethod
    def load(cls, model_dir: Path, config: dict[str, Any]) -> "FastModel":
        lexicon = None
        if _spec_from_config(config).lexicon:
            try:
                lexicon = Lexicon.read(model_dir / LEXICON)
            except (OSError, ValueError) as exc:
                raise ModelError(f"{config.get('name')}: cannot read its lexicon: {exc}") from exc
        with np.load(model_dir / WEIGHTS, allow_pickle=False) as z:
            return cls(config, z["weights"], z["bias"], lexicon)

    def save(self, model_dir: Path) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        # float16 halves the shipped size; the scores move by under 1e-3.
        np.savez_compressed(model_dir / WEIGHTS, weights=self.weights.astype(np.float16),
                            bias=self.bias)
        files = [WEIGHTS]
        if self.lexicon is not None:
            self.lexicon.write(model_dir / LEXICON)
            files.append(LEXICON)
        config = dict(self.config, kind=self.kind, hashing=asdict(self.spec), files=files)
        (model_dir / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        write_checksums(model_dir)

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        logits, notes, _ = self.predict_counts(texts)
        return logits, notes


    def predict_counts(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], np.ndarray]:
        texts = list(texts)
        n = len(texts)
        docs, buckets = hash_features(texts, self.spec, self.people, self.lexicon)
        buckets = buckets.astype(np.intp)
        out = np.zeros((n, len(self.classes_)), dtype=np.float64)
        for c, row in enumerate(self._relative, start=1):
            out[:, c] = np.bincount(docs, weights=row.take(buckets), minlength=n)
        counts = np.bincount(docs, minlength=n).astype(np.float64)
        return (out / np.sqrt(np.maximum(counts, 1.0))[:, None] + self.bias, [None] * n,
                counts)

    def pool_bias(self) -> np.ndarray:
        return self.bias.astype(np.float64)

    def predict_tokens(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], list[WordScores]]:
        # NUL separates texts in a batch: the plain path reads it as a space, and so must
        # this one (same length, so offsets hold).
        mapped = [normalize_with_offsets(t.replace("\x00", " "), lower=True, people=self.people)
                  for t in texts]
        n, k = len(mapped), len(self.classes_)
        docs, buckets, word = hash_words([m.text for m in mapped], self.spec, self.lexicon)
        buckets = buckets.astype(np.intp)
        n_words = np.array([m.text.count(" ") + 1 for m in mapped], dtype=np.int64)
        first = np.concatenate(([0], np.cumsum(n_words)[:-1]))
        flat = first[docs] + word
        total = int(n_words.sum())
        raw = np.zeros((total, k))
        for c, row in enumerate(self._relative, start=1):
            raw[:, c] = np.bincount(flat, weights=row.take(buckets), minlength=total)
        counts = np.bincount(flat, minlength=total).astype(np.float64)
        logits = np.zeros((n, k))
        out = []
        for i, m in enumerate(mapped):
            lo, hi = first[i], first[i] + n_words[i]
            r, cnt = raw[lo:hi], counts[lo:hi]
            logits[i] = r.sum(0) / np.sqrt(max(cnt.sum(), 1.0)) + self.bias
            out.append(WordScores(spans=_word_spans(m), raw=r, counts=cnt,
                                  rest=np.zeros(k), rest_count=0.0,
                                  bias=self.bias.astype(np.float64)))
        return logits, [None] * n, out


def _word_spans(mapped) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Original spans of the space-separated words of a normalised text."""
    text = mapped.text
    spans = []
    start = 0
    for word in text.split(" "):
        end = start + len(word)
        spans.append(mapped.span(start, end) if end > start else (0, 0))
        start = end + 1
    return np.array(spans, dtype=np.int64).reshape(-1, 2)


# Hashing fields added after models were saved without them, with the value those models
# were trained with.
_ADDED_LATER = {"lexicon": False}


def _spec_from_config(config: dict[str, Any]) -> HashingSpec:
    """The hashing spec a model was trained with; every field must be stated, so a new
    default can never silently change the features of an older model."""
    given = {**_ADDED_LATER, **config.get("hashing", {})}
    missing = [f.name for f in fields(HashingSpec) if f.name not in given]
    if missing:
        raise ModelError(f"{config.get('name')}: config.json 'hashing' lacks {missing}")
    return HashingSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


def _doc_norm(docs: np.ndarray, n: int) -> np.ndarray:
    """1/sqrt(feature count) per text, so long and short texts score on one scale."""
    return 1.0 / np.sqrt(np.maximum(np.bincount(docs, minlength=n), 1))


def _scores(weights: np.ndarray, bias: np.ndarray, docs: np.ndarray, buckets: np.ndarray,
            n: int) -> np.ndarray:
    gathered = weights[buckets]
    out = np.empty((n, weights.shape[1]), dtype=np.float64)
    for c in range(weights.shape[1]):
        out[:, c] = np.bincount(docs, weights=gathered[:, c], minlength=n)
    return out * _doc_norm(docs, n)[:, None] + bias


def train_fast(texts: Sequence[str], labels: Sequence[str], config: dict[str, Any],
               spec: HashingSpec = HashingSpec(), epochs: int = 6, lr: float = 0.2,
               l2: float = 1e-6, batch_size: int = 256, class_weight: str | None = "balanced",
               seed: int = 13, log: Callable[[str], None] = print,
               soft_targets: np.ndarray | None = None,
               lexicon: Lexicon | None = None) -> FastModel:
    """Train a FastModel with AdaGrad on the softmax loss, numpy only.

    ``config`` supplies name, version, labels, and calibration keys (temperature 1 and a
    review threshold are placeholders until :func:`frankly.calibration` fits them on dev).
    ``class_weight="balanced"`` weighs each class by its inverse frequency, which favours
    macro-recall, the metric the product is judged on. ``soft_targets`` (one row of class
    probabilities per text, e.g. a teacher model's mixed with the labels) replace the
    one-hot labels as targets (distillation); class weights still follow ``labels``.
    ``lexicon`` is needed, and saved with the model, when ``spec.lexicon``.
    """
    classes = list(config["labels"])
    y = np.array([classes.index(v) for v in labels])
    k, n = len(classes), len(y)
    freq = np.bincount(y, minlength=k) / n
    cw = (1.0 / (k * np.maximum(freq, 1e-9))) if class_weight == "balanced" else np.ones(k)
    w = np.zeros((1 << spec.bits, k), dtype=np.float32)
    bias = np.log(np.maximum(freq, 1e-9)).astype(np.float32)
    g2 = np.full((1 << spec.bits, k), 1e-8, dtype=np.float32)
    rng = np.random.default_rng(seed)
    texts = list(texts)
    people = People.from_config(config)
    for epoch in range(epochs):
        order = rng.permutation(n)
        loss = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            docs, buckets = hash_features([texts[i] for i in idx], spec, people, lexicon)
            logits = _scores(w, bias, docs, buckets, len(idx))
            logits -= logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            yi = y[idx]
            loss += float(-(np.log(p[np.arange(len(idx)), yi] + 1e-12) * cw[yi]).sum())
            grad = p
            if soft_targets is None:
                grad[np.arange(len(idx)), yi] -= 1.0
            else:
                grad -= soft_targets[idx]
            grad *= (cw[yi] / len(idx))[:, None]
            contrib = grad[docs] * _doc_norm(docs, len(idx))[docs][:, None]
            uniq, inv = np.unique(buckets, return_inverse=True)
            gw = np.empty((len(uniq), k), dtype=np.float64)
            for c in range(k):
                gw[:, c] = np.bincount(inv, weights=contrib[:, c], minlength=len(uniq))
            gw += l2 * w[uniq]
            g2[uniq] += (gw ** 2).astype(np.float32)
            w[uniq] -= (lr * gw / np.sqrt(g2[uniq])).astype(np.float32)
        log(f"fast model epoch {epoch + 1}/{epochs} loss {loss / n:.4f}")
    return FastModel(dict(config, kind="fast", hashing=asdict(spec)), w, bias, lexicon)
