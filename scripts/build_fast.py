"""Build the shipped ``fast`` model from ../shared/data (about 1 minute on 2 cores).

    python scripts/build_fast.py --data ../shared/data

Trains the hashed n-gram linear model with numpy on the shipped training mix, calibrates it
on TweetEval val and writes src/frankly/resources/models/fast with its card and checksums.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from frankly.models.fast import train_fast
from frankly.training.data import (LABELS, training_data_card, load_dev_sets,
                                   shipped_training_mix)
from frankly.training.package import CardInfo, finalize_model

OUT = Path(__file__).resolve().parents[1] / "src" / "frankly" / "resources" / "models" / "fast"
VERSION = "1.0.0"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    # All of GoEmotions: unlike the transformer, the linear model gains from it on every set.
    train = shipped_training_mix(args.data, goemotions_sample=None)
    dev = load_dev_sets(args.data)
    config = {"name": "frankly-fast", "version": VERSION, "labels": list(LABELS),
              "temperature": 1.0, "review_threshold": 0.0}
    model = train_fast([t for t, _ in train], [y for _, y in train], config, epochs=8, lr=0.1)
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save(args.out)
    finalize_model(args.out, "tweeteval-val", dev.pop("tweeteval-val"), dev, CardInfo(
        title="Frankly fast",
        summary=("A linear model over hashed byte 2- and 4-grams and word 1-2-grams (2^19 buckets, "
                 "float16 weights), trained with numpy (AdaGrad, class-balanced softmax loss). "
                 "Runs with numpy alone, for very large volumes; less accurate than the "
                 "accurate model, especially on negation and long-range context."),
        training_data=training_data_card(None),
        rebuild="`python scripts/build_fast.py --data ../shared/data` (about a minute).",
    ))


if __name__ == "__main__":
    main()
