"""Train a model on a user's labelled table, loadable with ``frankly.load(directory)``.

``base="fast"`` trains the hashed n-gram model from scratch with numpy (seconds to
minutes), reading the shipped fast model's prior word valence (its lexicon.tsv).
``base="accurate"`` fine-tunes the MiniLM encoder and needs the ``train`` extra.
Either way a stratified 10% is held out to calibrate the model, pick its review threshold
and measure it; the directory gets a config, a model card and checksums.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from frankly.batch.tables import TableReader, open_table
from frankly.errors import DataError, InputError, MissingDependencyError
from frankly.result import LABELS
from frankly.training.evaluate import labelled_chunks

BASES = ("fast", "accurate")
MIN_PER_CLASS = 2  # one to train on and one held out, at the very least
DEV_SHARE = 0.1
SPLIT_SEED = 13
DEFAULT_EPOCHS = {"fast": 6, "accurate": 2}  # train_fast's and FinetuneConfig's defaults
SMALL_DEV = 100  # below this many held-out rows the card warns that calibration is rough
TRAIN_EXTRA = "fine-tuning the transformer needs the train extra: pip install 'frankly[train]'"

Example = tuple[str, str]


def require_train_extra() -> None:
    """Raise MissingDependencyError unless torch, transformers and onnx can be imported."""
    try:
        import onnx  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(TRAIN_EXTRA) from exc


def read_examples(reader: TableReader, text_column: str, label_column: str,
                  label_map: Mapping[str, str] | None = None, skip_unknown: bool = False,
                  ) -> tuple[list[Example], dict[str, Any]]:
    """``(text, label)`` pairs; rows with empty or non-text text are left out and counted."""
    skipped: Counter = Counter()
    examples: list[Example] = []
    rows = bad_text = 0
    for n_rows, texts, gold in labelled_chunks(reader, text_column, label_column, label_map,
                                               skip_unknown, skipped):
        rows += n_rows
        for text, label in zip(texts, gold):
            if isinstance(text, str) and text.strip():
                examples.append((text, label))
            else:
                bad_text += 1
    return examples, {"rows": rows, "skipped_labels": sum(skipped.values()),
                      "skipped_texts": bad_text}


def stratified_split(examples: Sequence[Example], share: float = DEV_SHARE,
                     seed: int = SPLIT_SEED) -> tuple[list[Example], list[Example]]:
    """``(train, dev)``: ``share`` of each class (at least one) held out, deterministically.

    >>> data = [("a", "positive")] * 5 + [("b", "negative")] * 3
    >>> [len(part) for part in stratified_split(data)]
    [6, 2]
    """
    rng = random.Random(seed)
    train: list[Example] = []
    dev: list[Example] = []
    for label in LABELS:
        items = [e for e in examples if e[1] == label]
        rng.shuffle(items)
        k = max(1, round(len(items) * share)) if items else 0
        dev += items[:k]
        train += items[k:]
    rng.shuffle(train)
    return train, dev


def _check_output(output: Path, overwrite: bool) -> None:
    if output.exists() and not output.is_dir():
        raise DataError(f"cannot write the model to {output}: it is a file")
    if output.is_dir() and any(output.iterdir()):
        if not overwrite:
            raise DataError(f"{output} exists and is not empty: choose a new folder or pass "
                            f"--overwrite to replace the model in it")
        if not (output / "config.json").is_file():
            raise DataError(f"refusing to replace {output}: it is not a model folder "
                            f"(no config.json)")


def _card(base: str, name: str, source: str, train: list[Example], dev: list[Example],
          epochs: int, command: str):
    from frankly.training.package import CardInfo

    counts = Counter(label for _, label in train)
    per_class = ", ".join(f"{counts[label]} {label}" for label in LABELS)
    summary = {
        "fast": "A Frankly fast model (hashed byte and word n-grams and the shipped fast "
                "model's prior word valence from VADER (MIT) and Pattern (PDDL), linear, "
                "numpy only) trained from scratch",
        "accurate": "all-MiniLM-L6-v2 (Apache-2.0) fine-tuned for 3-class sentiment",
    }[base] + f" on the user's labelled rows of {source}, {epochs} epochs."
    limits = ["Only as good as the labelled rows it learned from: check the held-out metrics "
              "below before relying on it.",
              "Sarcasm and irony are often read literally.",
              "English only, unless the training rows were in another language."]
    if len(dev) < SMALL_DEV:
        limits.insert(0, f"The held-out set has only {len(dev)} rows: calibration, review "
                         f"threshold and metrics are rough estimates.")
    return CardInfo(
        title=name,
        summary=summary,
        training_data=[f"{len(train)} rows of {source} ({per_class}); a stratified "
                       f"{DEV_SHARE:.0%} ({len(dev)} rows, seed {SPLIT_SEED}) held out for "
                       f"calibration and the metrics below."],
        limits=limits,
        rebuild=f"`{command}`",
    )


def _build_fast(tmp: Path, config: dict[str, Any], train: list[Example], epochs: int,
                log: Callable[[str], None]) -> None:
    from frankly.models.fast import LEXICON, train_fast
    from frankly.models.hashing import HashingSpec, Lexicon
    from frankly.models.registry import model_path

    # The shipped fast model's prior word valence (VADER and Pattern words): with a few
    # thousand rows of one's own, most words are seen too seldom to learn their sign.
    shipped = model_path("fast") / LEXICON
    lexicon = Lexicon.read(shipped) if shipped.is_file() else None
    model = train_fast([t for t, _ in train], [y for _, y in train], config,
                       spec=HashingSpec(lexicon=lexicon is not None), epochs=epochs,
                       log=log, lexicon=lexicon)
    model.save(tmp)


def _build_accurate(tmp: Path, config: dict[str, Any], train: list[Example],
                    dev: list[Example], epochs: int, work: Path,
                    log: Callable[[str], None]) -> None:
    from frankly.training.finetune import (FinetuneConfig, export_onnx, finetune,
                                           store_weights_fp16, write_transformer_dir)

    best = finetune(train, dev, work, FinetuneConfig(epochs=epochs), log=log)
    # float16-stored weights as in the shipped model: int8's per-batch activation scales
    # would make a text's result depend on the other texts in its batch.
    fp32 = export_onnx(best / "state.pt", work / "onnx", quantize=False)
    write_transformer_dir(store_weights_fp16(fp32, work / "onnx" / "model.fp16w.onnx"), tmp,
                          config)


def train_table(reader: TableReader, output: str | Path, *, text_column: str = "text",
                label_column: str = "label", base: str = "fast", epochs: int | None = None,
                label_map: Mapping[str, str] | None = None, skip_unknown: bool = False,
                name: str | None = None, overwrite: bool = False, command: str = "",
                log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train, calibrate and write a model directory at ``output``; return its config.

    The directory is built next to ``output`` and renamed at the end, so a failed run
    leaves no half-written model.
    """
    from frankly.training.package import finalize_model, prior_adjustment

    if base not in BASES:
        raise InputError(f"unknown base {base!r}: use one of {', '.join(BASES)}")
    if epochs is not None and epochs < 1:
        raise InputError(f"epochs must be at least 1, got {epochs}")
    epochs = epochs or DEFAULT_EPOCHS[base]
    output = Path(output)
    if base == "accurate":  # fail before reading a large file
        require_train_extra()
        from frankly.training.finetune import base_model_dir

        base_model_dir()
    _check_output(output, overwrite)

    examples, stats = read_examples(reader, text_column, label_column, label_map, skip_unknown)
    counts = Counter(label for _, label in examples)
    short = [label for label in LABELS if counts[label] < MIN_PER_CLASS]
    if short:
        found = ", ".join(f"{counts[label]} {label}" for label in LABELS)
        raise DataError(f"{reader.name}: training needs at least {MIN_PER_CLASS} examples of "
                        f"every class ({', '.join(LABELS)}), found {found}")
    train, dev = stratified_split(examples)
    log(f"training a {base} model on {len(train)} rows, holding out {len(dev)} "
        f"({stats['skipped_labels']} rows skipped for unknown labels, "
        f"{stats['skipped_texts']} for empty text)")

    name = name or output.resolve().name or "custom"
    config = {"name": name, "version": date.today().isoformat(), "labels": list(LABELS),
              "temperature": 1.0, "review_threshold": 0.0}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        if base == "fast":
            _build_fast(tmp, config, train, epochs, log)
        else:
            digest = hashlib.sha256(json.dumps([train, dev, epochs]).encode()).hexdigest()
            # Checkpoints of the same data and epochs are reused: a killed run resumes.
            work = output.with_name(f".{output.name}.finetune-{digest[:12]}")
            _build_accurate(tmp, config, train, dev, epochs, work, log)
        card = _card(base, name, Path(reader.name).name, train, dev, epochs,
                     command or f"frankly train --base {base} --epochs {epochs}")
        # The fast trainer balances classes itself; the fine-tuned transformer learns the
        # training mix, so its scores get the prior correction (see finalize_model).
        adjustment = (None if base == "fast" else
                      prior_adjustment(LABELS, [label for _, label in train]))
        final = finalize_model(tmp, f"held-out {DEV_SHARE:.0%}", dev, {}, card, log=log,
                               logit_adjustment=adjustment)
        _replace_dir(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if base == "accurate":
        shutil.rmtree(work, ignore_errors=True)
    final["training_stats"] = dict(stats, train=len(train), dev=len(dev))
    return final


def _replace_dir(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.{os.getpid()}-old")
    os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def train_file(path: str | Path, output: str | Path, *, fmt: str | None = None,
               **options: Any) -> dict[str, Any]:
    """:func:`train_table` on a CSV, JSONL or Parquet file."""
    with open_table(path, fmt) as reader:
        return train_table(reader, output, **options)
