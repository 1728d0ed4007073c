"""Aspect-annotated sentences: the SemEval-2014 files (measurement only) and our own.

SemEval-2014 Task 4 (restaurants, laptops) states no licence for its data, so no shipped
model is trained on it: Frankly measures on a fixed dev split of its train files (the
official test files are not provided) and trains on sentences the team wrote
(``training-data/aspects-written-*.jsonl``, checked by ``scripts/check_aspect_data.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from frankly.errors import DataError

SEMEVAL2014 = {"restaurants": "semeval2014-absa/Restaurants_Train_v2.xml",
               "laptops": "semeval2014-absa/Laptop_Train_v2.xml"}
DEV_SHARE = 5  # one sentence in DEV_SHARE goes to the dev split (by a hash of its id)


@dataclass(frozen=True)
class Term:
    term: str
    start: int
    end: int
    polarity: str          # positive, negative, neutral (SemEval also has "conflict")
    category: str | None = None


@dataclass(frozen=True)
class AspectSentence:
    id: str
    text: str
    terms: tuple[Term, ...]
    domain: str = ""


def load_semeval2014(root: Path, domain: str) -> list[AspectSentence]:
    """All sentences of one SemEval-2014 train file, with their aspect terms."""
    if domain not in SEMEVAL2014:
        raise DataError(f"unknown SemEval-2014 domain {domain!r}; one of {sorted(SEMEVAL2014)}")
    path = Path(root) / SEMEVAL2014[domain]
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    out = []
    for s in tree.getroot().iter("sentence"):
        text = s.findtext("text") or ""
        terms = []
        for t in s.iter("aspectTerm"):
            start, end = int(t.get("from", 0)), int(t.get("to", 0))
            term = t.get("term", "")
            if text[start:end] != term:  # a few laptop offsets are off by a character or
                found = [m.start() for m in re.finditer(re.escape(term), text)]  # two
                if found:
                    start = min(found, key=lambda f: abs(f - start))
                    end = start + len(term)
            if text[start:end] != term:
                raise DataError(f"{path}: sentence {s.get('id')}: offsets {start}-{end} do not "
                                f"hold {term!r}")
            terms.append(Term(term, start, end, t.get("polarity", "neutral")))
        out.append(AspectSentence(s.get("id", ""), text, tuple(terms), domain))
    return out


def is_dev(sentence_id: str) -> bool:
    """Whether a sentence belongs to the fixed dev split (about 1 in DEV_SHARE)."""
    digest = hashlib.sha1(sentence_id.encode("utf-8")).digest()
    return digest[0] % DEV_SHARE == 0


def semeval2014_split(root: Path, domain: str
                      ) -> tuple[list[AspectSentence], list[AspectSentence]]:
    """``(train, dev)`` of one SemEval-2014 domain: the dev split is fixed by sentence id."""
    sentences = load_semeval2014(root, domain)
    return ([s for s in sentences if not is_dev(s.id)], [s for s in sentences if is_dev(s.id)])


def read_written(path: Path) -> list[AspectSentence]:
    """Sentences from one of our JSONL files (offsets filled in by check_aspect_data)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            terms = tuple(Term(a["term"], int(a["start"]), int(a["end"]), a["polarity"],
                               a.get("category")) for a in row.get("aspects", []))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}:{n}: {exc!r}; run scripts/check_aspect_data.py --write"
                            ) from None
        text = row["text"]
        for t in terms:
            if text[t.start:t.end] != t.term:
                raise DataError(f"{path}:{n}: offsets of {t.term!r} do not match the text")
        out.append(AspectSentence(str(row["id"]), text, terms, row.get("domain", "")))
    return out
