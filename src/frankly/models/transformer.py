"""The ``accurate`` model: a fine-tuned MiniLM encoder run with onnxruntime and tokenizers.

No torch at run time. Texts are tokenised in one parallel call per batch and padded only
to the longest text in the batch (dynamic padding); callers sort by length for speed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from frankly.errors import MissingDependencyError
from frankly.models.base import BaseModel
from frankly.text.normalize import normalize

ONNX = "model.onnx"
TOKENIZER = "tokenizer.json"
# Padded tokens per onnxruntime call. Attention memory grows with batch x length^2, so a
# large unsorted batch of long texts is split (measured: unsorted calls of 256 dev texts
# peaked at 705 MB without it, 535 MB with it; analyze_many's sorted batches at ~330 MB).
TOKEN_BUDGET = 64 * 128


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

    def __init__(self, config: dict[str, Any], model_dir: Path) -> None:
        super().__init__(config)
        ort, tokenizers = _import_runtime()
        self.model_dir = model_dir
        self.window: int = int(config["max_length"])
        tok = tokenizers.Tokenizer.from_file(str(model_dir / TOKENIZER))
        tok.no_padding()  # the shipped tokenizer.json pads to a fixed length: 5x slower
        tok.enable_truncation(self.window)
        self.tokenizer = tok
        opts = ort.SessionOptions()
        # Two threads match the small machines Frankly targets; FRANKLY_THREADS overrides.
        opts.intra_op_num_threads = int(os.environ.get("FRANKLY_THREADS", "0")) or min(
            4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_dir / ONNX), opts,
                                            providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, model_dir: Path, config: dict[str, Any]) -> "TransformerModel":
        return cls(config, model_dir)

    def save(self, model_dir: Path) -> None:
        import shutil

        shutil.copytree(self.model_dir, model_dir, dirs_exist_ok=True)

    def predict_logits(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str | None]]:
        if not texts:
            return np.zeros((0, len(self.classes_))), []
        encs = self.tokenizer.encode_batch([normalize(t) for t in texts])
        notes = [f"long text: only its first {self.window} tokens were read"
                 if enc.overflowing else None for enc in encs]
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        logits = np.zeros((len(encs), len(self.classes_)), dtype=np.float64)
        start = 0
        while start < len(order):
            # Sorted by length, so the last text of a slice is its widest.
            stop = start + 1
            while (stop < len(order)
                   and (stop - start + 1) * len(encs[order[stop]].ids) <= TOKEN_BUDGET):
                stop += 1
            part = order[start:stop]
            logits[part] = self._run([encs[i].ids for i in part])
            start = stop
        return logits, notes

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, :len(row)] = row
            mask[i, :len(row)] = 1
        return self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
