"""The ``accurate`` model: a fine-tuned MiniLM encoder run with onnxruntime and tokenizers.

No torch at run time. Texts are tokenised in one parallel call per batch and padded only
to the longest text in the batch (dynamic padding); callers sort by length for speed.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from frankly.errors import MissingDependencyError
from frankly.models.base import BaseModel, WordScores
from frankly.text.normalize import normalize, normalize_with_offsets

ONNX = "model.onnx"
TOKEN_OUTPUT = "token_logits"  # per-token head scores, added by training.finetune
TOKENIZER = "tokenizer.json"
# Per-token aspect heads (tag logits O/B/I, polarity logits), in models built with them.
ASPECT_OUTPUTS = ["aspect_tags", "aspect_polarity"]
# Padded tokens per onnxruntime call. Attention memory grows with batch x length^2, so a
# large unsorted batch of long texts is split (measured: unsorted calls of 256 dev texts
# peaked at 705 MB without it, 535 MB with it; analyze_many's sorted batches at ~330 MB).
TOKEN_BUDGET = 64 * 128
# One onnxruntime call costs about as much as this many tokens more in a call: each call
# streams the encoder's weights once (measured with one thread: 1.5 ms for 4 tokens, 2.4 ms
# for 16, 4.2 ms for 32, 7.9 ms for 64, about 0.1 ms a token after a ~1.1 ms start). Padding
# a call's texts by more than this in all costs more than a call of its own. Swept from 0 to
# 32 on TweetEval val tweets (one, four and 64 at a time, one thread; 8 and 16 against no
# limit with two threads): 6 to 12 were best and equal within noise; with no limit, four
# tweets read together cost as much CPU each as one alone (16.8 ms; 12.6 ms at 8).
RUN_COST_TOKENS = 8
SIZE_CHUNK = 1024  # texts tokenised at a time to size them (bounds memory on long documents)


def _import_runtime():
    try:
        import onnxruntime
        import tokenizers
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise MissingDependencyError(
            "the accurate model needs onnxruntime and tokenizers: pip install frankly") from exc
    return onnxruntime, tokenizers


class TransformerModel(BaseModel):
    kind = "transformer"
    pool_power = 1.0  # mean pooling
    # ~4 characters per token in English reviews, so 800 characters stay well inside the
    # 256-token window; a chunk that still overflows (emoji, CJK) is cut to chunk_floor
    # characters, which always fit: WordPiece never makes more tokens than characters.
    chunk_chars = 800
    # Measured on TweetEval val: macro-F1 0.710 read whole, 0.665 pooled from sentences
    # read alone (tweets split into fragments that lose each other's context).
    read_whole = True

    def __init__(self, config: dict[str, Any], model_dir: Path) -> None:
        super().__init__(config)
        ort, tokenizers = _import_runtime()
        self.model_dir = model_dir
        self.window: int = int(config["max_length"])
        tok = tokenizers.Tokenizer.from_file(str(model_dir / TOKENIZER))
        tok.no_padding()  # the shipped tokenizer.json pads to a fixed length: 5x slower
        tok.enable_truncation(self.window)
        self.tokenizer = tok
        self._sized = threading.local()  # see sizes(); per thread, as analyses may share it
        opts = ort.SessionOptions()
        # Two threads match the small machines Frankly targets; FRANKLY_THREADS overrides.
        opts.intra_op_num_threads = int(os.environ.get("FRANKLY_THREADS", "0")) or min(
            4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_dir / ONNX), opts,
                                            providers=["CPUExecutionProvider"])
        self._outputs = {o.name for o in self.session.get_outputs()}

    @classmethod
    def load(cls, model_dir: Path, config: dict[str, Any]) -> "TransformerModel":
        return cls(config, model_dir)

    def save(self, model_dir: Path) -> None:
        import shutil

        shutil.copytree(self.model_dir, model_dir, dirs_exist_ok=True)

    @property
    def chunk_floor(self) -> int:  # type: ignore[override]
        return self.window - 2  # [CLS] and [SEP] take two of the window's tokens

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        logits, notes, _ = self.predict_counts(texts)
        return logits, notes

    def sizes(self, texts: Sequence[str]) -> list[int]:
        # Sorting by characters pads badly: an emoji is spelt as several words, a URL or a
        # hashtag as many wordpieces. Sorted by tokens, TweetEval val pads 61k tokens instead
        # of 83k and runs ~1.45x faster; tokenising costs ~1% of the model's time.
        # The last chunk's encodings are kept for the predict call that follows (the
        # encoding depends on the normalised text alone, so a stale one is still right).
        out: list[int] = []
        for start in range(0, len(texts), SIZE_CHUNK):
            normed = [normalize(t, emoji=True, people=self.people)
                      for t in texts[start:start + SIZE_CHUNK]]
            encs = self.tokenizer.encode_batch(normed)
            self._sized.encodings = dict(zip(normed, encs))
            out += [len(e.ids) + sum(len(o.ids) for o in e.overflowing) for e in encs]
        return out

    def _encode(self, normed: list[str]) -> list[Any]:
        """The encodings of normalised texts, reusing those the last ``sizes`` call made
        in this thread (tokenising twice cost ~4% of a tweet's analysis)."""
        known: dict[str, Any] = getattr(self._sized, "encodings", None) or {}
        missing = list(dict.fromkeys(t for t in normed if t not in known))
        if missing:
            known = {**known, **dict(zip(missing, self.tokenizer.encode_batch(missing)))}
        return [known[t] for t in normed]

    def overflow_of(self, size: int) -> float | None:
        return self.window / size if size > self.window else None

    def predict_counts(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], np.ndarray]:
        encs = self._encode([normalize(t, emoji=True, people=self.people) for t in texts])
        logits, _ = self._run_all(encs, tokens=False)
        return logits, self._notes(encs), np.array([len(e.ids) for e in encs], dtype=float)

    @property
    def has_aspects(self) -> bool:
        """Whether the model has aspect heads (``ASPECT_OUTPUTS``)."""
        return all(name in self._outputs for name in ASPECT_OUTPUTS)

    def predict_tokens(self, texts: Sequence[str]
                       ) -> tuple[np.ndarray, list[str | None], list[WordScores]]:
        mapped = [normalize_with_offsets(t, emoji=True, people=self.people) for t in texts]
        encs = self._encode([m.text for m in mapped])
        logits, token_logits = self._run_all(encs, tokens=True)
        words = [_word_scores(m, enc, tl[:, :len(self.classes_)], lg)
                 for m, enc, tl, lg in zip(mapped, encs, token_logits, logits)]
        if self.has_aspects:
            words = [replace(w, aspects=_token_aspects(m, enc, tl, len(self.classes_)))
                     for w, m, enc, tl in zip(words, mapped, encs, token_logits)]
        return logits, self._notes(encs), words

    def _notes(self, encs: list[Any]) -> list[str | None]:
        return [f"long text: only its first {self.window} tokens were read"
                if enc.overflowing else None for enc in encs]

    def _run_all(self, encs: list[Any], tokens: bool
                 ) -> tuple[np.ndarray, list[np.ndarray]]:
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        logits = np.zeros((len(encs), len(self.classes_)), dtype=np.float64)
        per_token: list[np.ndarray] = [np.zeros(0)] * len(encs)
        start = 0
        while start < len(order):
            # Sorted by length, so the last text of a slice is its widest. A text joins the
            # call unless the padding it adds to the texts already in it costs more than a
            # call of its own would (RUN_COST_TOKENS).
            stop = start + 1
            width = len(encs[order[start]].ids)
            while stop < len(order):
                wider = len(encs[order[stop]].ids)
                if ((stop - start + 1) * wider > TOKEN_BUDGET
                        or (stop - start) * (wider - width) > RUN_COST_TOKENS):
                    break
                width = wider
                stop += 1
            part = order[start:stop]
            out = self._run([encs[i].ids for i in part], tokens)
            logits[part] = out[0]
            if tokens:
                for row, i in enumerate(part):
                    per_token[i] = out[1][row, :len(encs[i].ids)].astype(np.float64)
            start = stop
        return logits, per_token

    def _run(self, rows: list[list[int]], tokens: bool = False) -> list[np.ndarray]:
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        names = ["logits", TOKEN_OUTPUT] if tokens else ["logits"]
        if tokens and self.has_aspects:
            names += ASPECT_OUTPUTS
        out = self.session.run(names, {"input_ids": ids, "attention_mask": mask})
        if len(out) > 2:  # token scores, then aspect tags, then aspect polarity, per token
            out = [out[0], np.concatenate(out[1:], axis=-1)]
        return out


def _token_aspects(mapped: Any, enc: Any, scores: np.ndarray, k: int) -> Any:
    """The aspect heads' scores of one text, each token's span in the original text."""
    from frankly.aspects import TokenAspects

    spans = np.array([(-1, -1) if special or b <= a else mapped.span(a, b)
                      for (a, b), special in zip(enc.offsets, enc.special_tokens_mask)],
                     dtype=np.int64).reshape(-1, 2)
    return TokenAspects(spans=spans, tags=scores[:, k:k + 3], polarity=scores[:, k + 3:])


def _word_scores(mapped: Any, enc: Any, token_logits: np.ndarray,
                 logits: np.ndarray) -> WordScores:
    """Group wordpieces into the whitespace-separated words of the normalised text."""
    k = len(logits)
    n = len(token_logits)
    special = np.asarray(enc.special_tokens_mask, dtype=bool)
    starts = np.fromiter((a for a, _ in enc.offsets), dtype=np.int64, count=n)
    text = mapped.text
    spaces = np.array([j for j, c in enumerate(text) if c == " "], dtype=np.int64)
    word_of = np.searchsorted(spaces, starts[~special])
    present, inverse = np.unique(word_of, return_inverse=True)
    raw = np.zeros((len(present), k))
    np.add.at(raw, inverse, token_logits[~special])
    counts = np.bincount(inverse, minlength=len(present)).astype(np.float64)
    begin = np.where(present > 0, spaces[np.maximum(present - 1, 0)] + 1, 0) \
        if len(spaces) else np.zeros(len(present), dtype=np.int64)
    end = np.where(present < len(spaces), spaces[np.minimum(present, len(spaces) - 1)],
                   len(text)) if len(spaces) else np.full(len(present), len(text))
    spans = np.array([mapped.span(int(a), int(b)) for a, b in zip(begin, end)],
                     dtype=np.int64).reshape(-1, 2)
    rest = token_logits[special].sum(0) if special.any() else np.zeros(k)
    bias = logits - token_logits.sum(0) / max(n, 1)
    return WordScores(spans=spans, raw=raw, counts=counts, rest=rest,
                      rest_count=float(special.sum()), bias=bias)
