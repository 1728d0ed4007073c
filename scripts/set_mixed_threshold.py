"""Choose and store the "mixed" threshold of a model directory, on dev data.

    python scripts/set_mixed_threshold.py src/frankly/resources/models/accurate \
        --data ../shared/data

Takes a few minutes for the accurate model (5,400 documents). See frankly.training.mixed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from frankly.analyzer import Analyzer
from frankly.training.data import load_goemotions, load_sst3, load_tweeteval
from frankly.training.mixed import choose_mixed_threshold, mixed_documents, write_mixed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_dir", type=Path)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = ap.parse_args()
    dev = {"tweeteval-val": load_tweeteval(args.data, "val"),
           "sst3-dev": load_sst3(args.data, "dev"),
           "goemotions-dev": load_goemotions(args.data, "dev")}
    docs = mixed_documents(dev)
    result = choose_mixed_threshold(Analyzer(args.model_dir, explain=False), docs)
    print(result)
    write_mixed(args.model_dir, result)


if __name__ == "__main__":
    main()
