"""Build the shipped urgency model (src/frankly/resources/urgency) from our own examples.

    python scripts/train_urgency.py

Reads training-data/urgency-written*.tsv (messages the Frankly team wrote, Apache-2.0;
rows close to a message of the held-out set benchmarks/data/urgency_test.tsv, word-set
Jaccard >= 0.5, were removed when the files were written),
chooses the L2 strength and temperature by 5-fold cross-validation, fits on everything,
and writes model.json, weights.npy, MODEL_CARD.md and checksums.json beside phrases.tsv.
About 14 minutes on 2 cores (6 L2 strengths x 5 folds over 2,021 messages); numpy only.

Not used, and why: the synthetic support tickets are CC BY-NC (development and
measurement only); the MOOC forum posts state no licence for the data (measured in
benchmarks/urgency.py with cross-validation, never shipped); CrisisLex (MIT) is disaster
tweets whose labels say "informative", not "needs a person now".
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
from datetime import date
from pathlib import Path

from frankly.training.urgency import read_examples, train
from frankly.urgency.detector import CHECKSUMS, PHRASES_FILE
from frankly.urgency.model import CATEGORY_NAMES, MODEL_JSON, WEIGHTS

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "frankly" / "resources" / "urgency"
DATA = [REPO / "training-data" / "urgency-written.tsv",
        REPO / "training-data" / "urgency-written-2.tsv",
        REPO / "training-data" / "urgency-written-3.tsv"]
VERSION = "1.0.0"


def _counts(counter: collections.Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.most_common())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, nargs="+", default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    examples = [e for path in args.data for e in read_examples(path)]
    info = {"name": "frankly-urgency", "version": VERSION,
            "trained_on": [str(p.relative_to(REPO) if p.is_relative_to(REPO) else p)
                           for p in args.data]}
    trained = train(examples, info=info)
    trained.model.save(args.out)
    by_language = collections.Counter(e.language for e in examples)
    by_category = collections.Counter(e.category for e in examples)
    cv = trained.cv
    thresholds = ", ".join(f"{t:g}: {a:.3f}" for t, a in cv["accuracy_by_threshold"].items())
    cv_row = "| " + " | ".join(f"{cv[k]:.3f}" for k in (
        "accuracy", "precision", "recall", "f1", "category_right", "log_loss",
        "log_loss_uncalibrated")) + " |"
    phrases = sum(1 for line in (args.out / PHRASES_FILE).read_text(encoding="utf-8")
                  .splitlines()[1:] if line.strip())
    card = f"""# Model card: Frankly urgency (`frankly-urgency` {VERSION})

Says whether a customer message needs a person now, how likely that is (a calibrated
probability), its main category and the spans of text that show it. Built {date.today()}.

## How it works
1. {phrases} written phrase families (`phrases.tsv`: English, German, Spanish, French,
   Portuguese) for the categories below and for "no rush" wording. A phrase negated in its
   clause ("there is no smell of gas") does not count. Every reason points at a span.
2. A multinomial logistic regression (classes: none and the 8 categories) over the words,
   word pairs and which phrase families occur. The urgency score is 1 - P(none) after
   temperature scaling (T = {trained.model.temperature:.3f}) and Platt scaling (slope
   {trained.model.platt[0]:.3f}, intercept {trained.model.platt[1]:.3f}), both fitted on
   out-of-fold predictions; a message is urgent at score >= {trained.model.threshold}, the
   threshold with the best out-of-fold accuracy ({thresholds}).
3. A phrase the user adds in their configuration is decisive (score at least 0.95).
Urgency does not use the sentiment scores: urgency is not negativity.

## Categories
{chr(10).join(f"- `{k}`: {v}" for k, v in CATEGORY_NAMES.items())}

## Training data and licences
- {len(examples)} messages written by the Frankly team for this purpose
  ({", ".join(f"`{p}`" for p in info["trained_on"])}, ours, Apache-2.0;
  written apart from the held-out set, and rows close to a held-out message
  removed). By language: {_counts(by_language)}. By category: {_counts(by_category)}.
- Not used: the synthetic support tickets (CC BY-NC 4.0: development and measurement only),
  the MOOC forum posts (no licence stated for the data: measured, never trained on for the
  shipped model), CrisisLex (disaster tweets; its labels mark informative tweets, not
  messages that need a person now).
- The evaluation set in `benchmarks/data/urgency_test.tsv` was written separately and is
  never trained on. Its aggregate scores were looked at after each round of changes (five
  rounds; the changes themselves came from errors and cross-validation on the training
  messages), so it is held out but not untouched.

## Cross-validated metrics (5 folds over the training messages, calibrated)
L2 strength {trained.l2} chosen from {sorted(trained.cv_by_l2)} by out-of-fold log loss
({", ".join(f"{k}: {v:.3f}" for k, v in sorted(trained.cv_by_l2.items()))}).

| accuracy | precision | recall | F1 | right category (urgent) | log loss | before calibration |
|---:|---:|---:|---:|---:|---:|---:|
{cv_row}

Measured on other data (our held-out set, synthetic tickets per language, MOOC posts):
`benchmarks/urgency.py`, written to benchmarks/RESULTS.md.

## Intended use
Ranking a support queue so that a person sees first the messages that need action now, with
the reasons shown. A suggestion that a person confirms or overrides, never an automatic
decision about the customer.

## Known limits
- Learned from {len(examples)} written messages: wording far from them relies on the
  phrases; unusual phrasings of an urgent problem can be missed.
- German, Spanish, French and Portuguese have fewer phrases and examples than English.
- Other languages are not guessed (score None, with a review reason).
- Sarcasm ("great, charged twice again") is read literally, which for urgency is usually right.

## Rebuild
`python scripts/train_urgency.py` (numpy only, about 14 minutes on 2 cores).
"""
    (args.out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    sums = {name: hashlib.sha256((args.out / name).read_bytes()).hexdigest()
            for name in (PHRASES_FILE, MODEL_JSON, WEIGHTS, "MODEL_CARD.md")}
    (args.out / CHECKSUMS).write_text(json.dumps(sums, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"l2": trained.l2, "temperature": trained.model.temperature,
                      "platt": trained.model.platt,
                      "features": len(trained.model.vocabulary), **cv}, indent=1))


if __name__ == "__main__":
    main()
