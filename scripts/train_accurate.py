"""Fine-tune the ``accurate`` model from ../shared/data (step 1 of building it).

    python scripts/train_accurate.py --data ../shared/data --work build/accurate

Data: SemEval 2013-2016 Task 4A tweets (TweetEval val tweets removed) and a sample of the
GoEmotions groups (ambiguous and multi-label rows dropped); only sets whose licence allows a
shipped model. Selection on TweetEval val. About 18 minutes per epoch on 2 idle cores.
Then run scripts/build_accurate.py to export, quantise, calibrate and package it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from frankly.training.data import (GOEMOTIONS_SAMPLE, load_tweeteval, load_written_feedback,
                                   shipped_training_mix)
from frankly.training.finetune import FinetuneConfig, finetune


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--work", type=Path, default=Path("build/accurate"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--goemotions", default=str(GOEMOTIONS_SAMPLE),
                    help="GoEmotions train rows to mix in, or 'all'")
    ap.add_argument("--init", help="state.pt of an earlier run to continue from (stage 2)")
    ap.add_argument("--replay", type=int,
                    help="train on only this many rows of the mix (a short later stage)")
    ap.add_argument("--written", type=int, default=0,
                    help="add training-data/written-feedback.tsv this many times")
    args = ap.parse_args()
    sample = None if args.goemotions == "all" else int(args.goemotions)
    train = shipped_training_mix(args.data, goemotions_sample=sample)
    if args.replay:
        random.Random(7).shuffle(train)
        train = train[:args.replay]
    train += load_written_feedback() * args.written
    args.work.mkdir(parents=True, exist_ok=True)
    # build_accurate.py reads this to describe the data and compute the prior correction.
    (args.work / "run.json").write_text(json.dumps(
        {"goemotions_sample": sample, "init": args.init, "lr": args.lr, "replay": args.replay,
         "written": args.written, "argv": sys.argv[1:]}, indent=2) + "\n")
    print(f"training on {len(train)} texts")
    best = finetune(train, load_tweeteval(args.data, "val"), args.work,
                    FinetuneConfig(epochs=args.epochs, lr=args.lr, init_state=args.init))
    print(f"best: {best}")


if __name__ == "__main__":
    main()
