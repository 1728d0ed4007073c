"""``frankly train``: train a model on your labelled data, usable with ``--model DIR``."""

from __future__ import annotations

import argparse
import shlex

from frankly.cli.common import add_format_option, add_label_options, err, positive_int

EXAMPLES = """\
examples:
  frankly train --input labelled.csv --text-column comment --label-column sentiment \\
      --output my-model
  frankly analyze --model my-model "The new checkout is so much faster"

--base fast trains the hashed n-gram model from scratch with numpy (seconds to minutes).
--base accurate fine-tunes the transformer and needs pip install 'frankly[train]'.
A stratified 10% of the rows (at least one per class) is held out to calibrate the
model, pick its review threshold and measure it; every class needs at least 2 rows.
Rows with empty text are left out. Labels are read as in 'frankly evaluate'.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train a model on your labelled CSV/JSONL/Parquet file",
        description="Train a sentiment model on your labelled data and write it to a folder\n"
                    "that 'frankly analyze --model DIR' and frankly.load(DIR) read.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-i", "--input", required=True, metavar="FILE",
                   help="a CSV, JSONL or Parquet file with a text and a label column")
    add_format_option(p)
    add_label_options(p)
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder to write the model to (must be new or empty)")
    p.add_argument("--base", choices=("fast", "accurate"), default="fast",
                   help="model to train (default: fast)")
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="passes over the data (default: 6 for fast, 2 for accurate)")
    p.add_argument("--name", help="model name reported in every result (default: the "
                                  "folder's name)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the model already in --output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from frankly.training.train import train_file

    command = "frankly " + " ".join(shlex.quote(a) for a in args.argv)
    config = train_file(args.input, args.output, fmt=args.format, text_column=args.text_column,
                        label_column=args.label_column, base=args.base, epochs=args.epochs,
                        label_map=args.label_map, skip_unknown=args.skip_unknown,
                        name=args.name, overwrite=args.overwrite, command=command, log=err)
    held_out = next(iter(config["dev_metrics"].values()))
    stats = config["training_stats"]
    print(f"wrote the model {config['name']} {config['version']} to {args.output} "
          f"({stats['train']:,} rows trained on, {stats['dev']:,} held out)")
    print(f"held out: accuracy {held_out['accuracy']:.3f}, macro-F1 {held_out['macro_f1']:.3f},"
          f" macro-recall {held_out['macro_recall']:.3f}; review below confidence "
          f"{config['review_threshold']:.2f}")
    print(f"use it with: frankly analyze --model {shlex.quote(str(args.output))} \"some text\"")
    return 0
