"""Average the weights of fine-tuning runs that share one start ("model soup", Wortsman et
al. 2022) into a work folder that build_accurate.py can export.

    python scripts/soup_accurate.py --data ../shared/data --out build/accurate-soup \\
        build/accurate-s4/epoch-2/state.pt build/accurate-s5/epoch-2/state.pt

Accurate 1.1.0 averaged two last-stage runs from the same stage-2 weights: one with more of
our written feedback (better on the robustness probes), one with more replay of the tweet
mix (better on the dev sets); the average kept most of both. 1.3.0 averages two
counterfactual distillation runs (scripts/debias_accurate.py) the same way: one with fewer
name flips, one that kept the aspect tagger. About 2 minutes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from frankly.training.data import load_tweeteval
from frankly.training.finetune import (_require_torch, base_model_dir, build_classifier,
                                       load_tokenizer, predict_logits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("states", nargs="+", type=Path, help="state.pt files to average")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("build/accurate-soup"))
    args = ap.parse_args()
    _require_torch()
    import torch

    states = [torch.load(p, weights_only=True) for p in args.states]
    soup = {k: sum(s[k].float() for s in states) / len(states)
            if states[0][k].is_floating_point() else states[0][k] for k in states[0]}
    (args.out / "epoch-1").mkdir(parents=True, exist_ok=True)
    torch.save(soup, args.out / "epoch-1" / "state.pt")
    # What build_accurate.py reads: the run's settings, its history and the dev logits.
    first_run = args.states[0].parent.parent
    history = json.loads((first_run / "history.json").read_text())
    if any(k.startswith("tagger.") for k in soup):  # with aspect heads (aspect_finetune)
        from frankly.training.aspect_finetune import _SentimentView, build_multitask

        multitask = build_multitask(base_model_dir())
        multitask.load_state_dict(soup)
        model = _SentimentView(multitask)
    else:
        model = build_classifier(base_model_dir())
        model.load_state_dict(soup)
    model.eval()
    tok = load_tokenizer(base_model_dir(), history[0]["config"]["max_length"])
    val = load_tweeteval(args.data, "val")
    logits = predict_logits(model, tok, [t for t, _ in val])
    np.save(args.out / "epoch-1" / "dev_logits.npy", logits)
    (args.out / "history.json").write_text(json.dumps([dict(history[-1], epoch=1)]))
    runs = [json.loads((p.parent.parent / "run.json").read_text()) for p in args.states]
    run = dict(runs[0], soup=[{"state": str(p), **r} for p, r in zip(args.states, runs)])
    (args.out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    print(f"averaged {len(states)} states into {args.out / 'epoch-1' / 'state.pt'}")


if __name__ == "__main__":
    main()
