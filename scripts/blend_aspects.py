"""Blend an aspect-trained state back towards the sentiment state it started from.

    python scripts/blend_aspects.py --aspects build/accurate-aspects/epoch-2/state.pt \\
        --sentiment build/accurate-soup/epoch-1/state.pt --alpha 0.75 \\
        --out build/accurate-aspects-blend

Encoder and sentiment head: ``alpha`` x the aspect-trained weights + (1 - alpha) x the
sentiment weights (weight-space ensembling, as WiSE-FT, Wortsman et al. 2022); the aspect
heads are kept as trained. Training the aspect heads moved the sentiment a little (TweetEval
val macro-recall 0.731 -> 0.719 at epoch 2); blending at 0.75 kept most of both (0.728, and
better aspect extraction on the SemEval-2014 dev split than either end). Writes a work
folder that scripts/build_accurate.py exports. About 2 minutes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from frankly.training.data import load_tweeteval


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aspects", type=Path, required=True, help="multitask state.pt")
    ap.add_argument("--sentiment", type=Path, required=True, help="sentiment state.pt")
    ap.add_argument("--alpha", type=float, default=0.75)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("build/accurate-aspects-blend"))
    args = ap.parse_args()
    import torch

    from frankly.training.aspect_finetune import _SentimentView, build_multitask
    from frankly.training.finetune import base_model_dir, load_tokenizer, predict_logits

    aspects = torch.load(args.aspects, weights_only=True)
    sentiment = torch.load(args.sentiment, weights_only=True)
    prefix = "classifier."
    blend = {}
    for key, value in aspects.items():
        if key.startswith(prefix) and value.is_floating_point():
            blend[key] = (args.alpha * value.float()
                          + (1 - args.alpha) * sentiment[key[len(prefix):]].float())
        else:
            blend[key] = value
    (args.out / "epoch-1").mkdir(parents=True, exist_ok=True)
    torch.save(blend, args.out / "epoch-1" / "state.pt")
    model = build_multitask(base_model_dir())
    model.load_state_dict(blend)
    model.eval()
    run_dir = args.aspects.parent.parent
    history = json.loads((run_dir / "history.json").read_text())
    epoch = next(h for h in history if h["epoch"] == int(args.aspects.parent.name.split("-")[1]))
    tok = load_tokenizer(base_model_dir(), epoch["config"]["max_length"])
    val = load_tweeteval(args.data, "val")
    np.save(args.out / "epoch-1" / "dev_logits.npy",
            predict_logits(_SentimentView(model), tok, [t for t, _ in val]))
    (args.out / "history.json").write_text(json.dumps([dict(epoch, epoch=1)]))
    run = json.loads((run_dir / "run.json").read_text())
    run["blend"] = {"aspects": str(args.aspects), "sentiment": str(args.sentiment),
                    "alpha": args.alpha}
    (args.out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    print(f"blended {args.alpha} x {args.aspects} + {1 - args.alpha:g} x {args.sentiment} "
          f"into {args.out / 'epoch-1' / 'state.pt'}")


if __name__ == "__main__":
    main()
