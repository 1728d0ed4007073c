"""Teach the accurate model aspects (step 1 of building the aspect-aware accurate model).

    python scripts/train_aspects.py --data ../shared/data --work build/accurate-aspects \\
        --init build/accurate-soup/epoch-1/state.pt

Continues from the shipped sentiment state (the soup named in the accurate model card),
interleaving a replay of the sentiment mix with our own aspect-annotated sentences
(training-data/aspects-written-*.jsonl). Each epoch is scored on TweetEval val (sentiment)
and on the fixed dev split of SemEval-2014 restaurants and laptops (aspects; measured
only: that data states no licence, so it never trains a shipped model). About 4 minutes
per epoch on 2 idle cores. Then scripts/build_accurate.py exports and packages it.

``--aspect-train semeval`` trains the aspect heads on the SemEval-2014 train split instead:
a research build that shows what the annotations of that task would give; never shipped.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from frankly.training.absa import read_written, semeval2014_split
from frankly.training.data import load_tweeteval, load_written_feedback, shipped_training_mix

REPO = Path(__file__).resolve().parents[1]
WRITTEN = sorted((REPO / "training-data").glob("aspects-written-*.jsonl"))


def evaluator(dev: dict):
    """Aspect dev scores of a multitask model: extraction F1 (exact spans) and polarity
    accuracy on the gold terms, per domain."""
    from frankly.training.aspect_eval import score_torch

    def evaluate(model, tok) -> dict[str, float]:
        return score_torch(model, tok, dev)

    return evaluate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--work", type=Path, default=Path("build/accurate-aspects"))
    ap.add_argument("--init", required=True, help="sentiment (or multitask) state.pt")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--replay", type=int, default=8000, help="rows of the sentiment mix")
    ap.add_argument("--written", type=int, default=2,
                    help="copies of training-data/written-feedback.tsv")
    ap.add_argument("--aspect-copies", type=int, default=2,
                    help="copies of the aspect sentences per epoch")
    ap.add_argument("--aspect-weight", type=float, default=1.0)
    ap.add_argument("--aspect-train", choices=("written", "semeval"), default="written")
    args = ap.parse_args()
    from frankly.training.aspect_finetune import AspectConfig, finetune_aspects

    sentiment = shipped_training_mix(args.data, goemotions_sample=None)
    random.Random(7).shuffle(sentiment)
    sentiment = sentiment[:args.replay] + load_written_feedback() * args.written
    dev = {d: semeval2014_split(args.data, d)[1] for d in ("restaurants", "laptops")}
    if args.aspect_train == "semeval":
        aspects = [s for d in dev for s in semeval2014_split(args.data, d)[0]]
    else:
        if not WRITTEN:
            sys.exit("no training-data/aspects-written-*.jsonl files")
        aspects = [s for path in WRITTEN for s in read_written(path)]
    aspects = aspects * args.aspect_copies
    args.work.mkdir(parents=True, exist_ok=True)
    (args.work / "run.json").write_text(json.dumps(
        {"script": "scripts/train_aspects.py", "goemotions_sample": None, "init": args.init,
         "lr": args.lr, "replay": args.replay,
         "written": args.written, "aspect_train": args.aspect_train,
         "aspect_files": [str(p.relative_to(REPO)) for p in WRITTEN],
         "argv": sys.argv[1:]}, indent=2) + "\n")
    print(f"sentiment rows {len(sentiment)}, aspect sentences {len(aspects)}")
    finetune_aspects(sentiment, aspects, load_tweeteval(args.data, "val"), args.work,
                     evaluator(dev), AspectConfig(epochs=args.epochs, lr=args.lr,
                                                  aspect_weight=args.aspect_weight,
                                                  init_state=args.init))


if __name__ == "__main__":
    main()
