"""The prior word valence that the fast model reads (:class:`frankly.models.hashing.Lexicon`),
built from the lexicons in ``../shared/data`` whose licences allow a shipped model.

Each word gets a grade: its VADER mean valence (-4..+4) in steps of :data:`STEP`, or, for a
word VADER lacks, its mean polarity in the Pattern adjective lexicon (-1..+1) scaled to
VADER's range. Words whose grade rounds to 0, entries that are not one plain word
(emoticons, phrases) and first names of the US census lists are left out: a name carries no
sentiment of its own, and some are slang entries of VADER ("mia" missing in action, "tia"
thanks in advance, "rob", "ty"), which would read every Mia or Tia as negative or positive.
The model learns one weight per grade (and per grade in a negator's scope), so a word that
training seldom or never saw still reads with its sign.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

from frankly.errors import DataError
from frankly.models.hashing import Lexicon, is_lexicon_word

VADER = Path("vader-lexicon") / "vader_lexicon.txt"
VADER_LICENSE = Path("vader-lexicon") / "LICENSE.txt"
PATTERN = Path("lexicon-textblob-pattern") / "en-sentiment.xml"
# Valence units per grade. On TweetEval val (macro-recall), 0.5 beat 1.0 (0.685 against
# 0.683, VADER alone); adding Pattern's words raised it to 0.688 (no lexicon: 0.677).
STEP = 0.5
PATTERN_SCALE = 4.0  # Pattern's polarity -1..1 onto VADER's valence -4..4
# Written by scripts/build_names.py from the census lists (training only, not shipped).
CENSUS_NAMES = Path(__file__).resolve().parents[3] / "training-data" / "census-first-names.txt"


def prior_lexicon(data: Path, step: float = STEP, names: Path = CENSUS_NAMES) -> Lexicon:
    """The lexicon from VADER (MIT) and Pattern (PDDL) under ``data`` (../shared/data),
    less the first names listed in ``names``."""
    try:
        leave_out = {line.strip().lower() for line in names.read_text("utf-8").splitlines()
                     if line.strip() and not line.startswith("#")}
    except OSError as exc:
        raise DataError(f"cannot read the first names to leave out: {exc}") from exc
    grades: dict[str, int] = {}
    for word, valence in _vader(data / VADER).items():
        _add(grades, word, valence / step)
    for word, polarity in _pattern(data / PATTERN).items():
        if word not in grades:
            _add(grades, word, polarity * PATTERN_SCALE / step)
    for word in leave_out & grades.keys():
        del grades[word]
    try:
        licence = (data / VADER_LICENSE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DataError(f"cannot read VADER's licence: {exc}") from exc
    source = (f"Frankly's prior word valence: grade = VADER mean valence / {step}, or, for "
              f"words VADER lacks, Pattern adjective polarity x {PATTERN_SCALE:g} / {step} "
              f"(frankly.training.lexicon; built by scripts/build_fast.py), less the US "
              f"census first names.\n"
              f"Derived from the VADER sentiment lexicon (vaderSentiment, MIT licence) and "
              f"the Pattern adjective lexicon as shipped with TextBlob (PDDL).\n"
              f"VADER's licence:\n{licence}")
    return Lexicon(grades, source)


def _add(grades: dict[str, int], word: str, value: float) -> None:
    grade = int(round(value))
    if grade and is_lexicon_word(word):
        grades[word] = grade


def _vader(path: Path) -> dict[str, float]:
    out = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for n, row in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
                if len(row) < 2:
                    continue
                try:
                    out[row[0].lower()] = float(row[1])
                except ValueError:
                    raise DataError(f"{path}:{n}: expected a mean valence, got "
                                    f"{row[1]!r}") from None
    except OSError as exc:
        raise DataError(f"cannot read the VADER lexicon: {exc}") from exc
    return out


def _pattern(path: Path) -> dict[str, float]:
    senses: dict[str, list[float]] = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        raise DataError(f"cannot read the Pattern lexicon {path}: {exc}") from exc
    for node in root.iter("word"):
        form = (node.get("form") or "").lower()
        if form:
            senses.setdefault(form, []).append(float(node.get("polarity") or 0.0))
    return {form: sum(v) / len(v) for form, v in senses.items()}
