"""Loaders for the labelled corpora in ``../shared/data`` used to build the shipped models.

Every loader returns a list of ``(text, label)`` pairs with labels in
``("negative", "neutral", "positive")``. The corpora are not shipped with Frankly; these
functions are only used by the model build scripts and the benchmarks.
"""

from __future__ import annotations

import codecs
import csv
import html
import random
import re
from pathlib import Path

from frankly.errors import DataError
from frankly.result import LABELS

Example = tuple[str, str]

SEMEVAL_TWEET_FILES = (
    "twitter-2013train-A.txt",
    "twitter-2013dev-A.txt",
    "twitter-2013test-A.txt",
    "twitter-2014test-A.txt",
    "twitter-2015train-A.txt",
    "twitter-2015test-A.txt",
    "twitter-2016train-A.txt",
    "twitter-2016dev-A.txt",
    "twitter-2016devtest-A.txt",
    "twitter-2016test-A.txt",
)
# Not tweets: held out of training and used as extra out-of-domain dev sets.
SEMEVAL_HELD_OUT = ("sms-2013test-A.tsv", "livejournal-2014test-A.tsv")

_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
_ROW = re.compile(r"^([^\t]+)\t(?:([^\t]+)\t)?(positive|negative|neutral)\t(.*)$")
_KEY_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_KEY_HANDLE = re.compile(r"@\w+")
_KEY_DROP = re.compile(r"[^a-z0-9]+")


def decode_escapes(text: str) -> str:
    """Decode the literal ``\\u2019`` style escapes of the SemEval 2013 files."""
    return _ESCAPE.sub(lambda m: codecs.decode(m.group(0), "unicode_escape"), text)


def overlap_key(text: str) -> str:
    """A key that matches one tweet across SemEval and TweetEval copies.

    TweetEval anonymised handles and some copies lost their URLs, so both are dropped,
    escapes and entities decoded, and only letters and digits kept.
    """
    text = html.unescape(decode_escapes(text)).lower()
    text = _KEY_URL.sub(" ", text)
    text = _KEY_HANDLE.sub(" ", text)
    return _KEY_DROP.sub("", text)


def read_semeval(path: Path) -> list[tuple[str, str, str]]:
    """Read one SemEval Task 4A file as ``(id, text, label)``; continuation lines are joined."""
    rows: list[list[str]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            match = _ROW.match(line)
            if match:
                # .tsv files carry a second id column; the row id is the last one.
                rows.append([match.group(2) or match.group(1), match.group(4), match.group(3)])
            elif rows and line.strip():
                rows[-1][1] += " " + line
    return [(i, html.unescape(decode_escapes(t)).strip(), lab) for i, t, lab in rows]


def load_semeval(root: Path, files: tuple[str, ...] = SEMEVAL_TWEET_FILES,
                 exclude: set[str] | None = None) -> list[Example]:
    """SemEval tweets deduplicated by id and by text key, minus keys in ``exclude``."""
    seen_ids: set[str] = set()
    seen_keys: set[str] = set(exclude or ())
    out: list[Example] = []
    for name in files:
        for tid, text, label in read_semeval(root / "semeval2017-task4a" / name):
            key = overlap_key(text)
            if tid in seen_ids or key in seen_keys or not key:
                continue
            seen_ids.add(tid)
            seen_keys.add(key)
            out.append((text, label))
    return out


def load_tweeteval(root: Path, split: str = "val") -> list[Example]:
    base = root / "tweeteval-sentiment"
    texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise DataError(f"{base}: {len(texts)} texts but {len(labels)} labels")
    return [(html.unescape(t).strip(), LABELS[int(y)]) for t, y in zip(texts, labels)]


def load_goemotions(root: Path, split: str) -> list[Example]:
    """GoEmotions groups; multi-label and ``ambiguous`` rows are dropped."""
    names = {"1": "negative", "2": "neutral", "3": "positive"}
    out = []
    with open(root / "goemotions" / "group" / f"{split}.tsv", encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) >= 2 and row[1] in names:
                out.append((row[0], names[row[1]]))
    return out


def load_sst3(root: Path, split: str) -> list[Example]:
    """SST-5 sentences mapped to three classes: 1-2 negative, 3 neutral, 4-5 positive."""
    grade = {"1": "negative", "2": "negative", "3": "neutral", "4": "positive", "5": "positive"}
    out = []
    with open(root / "sst5" / f"sst_{split}.txt", encoding="utf-8") as fh:
        for line in fh:
            label, _, text = line.rstrip("\n").partition("\t")
            if label.startswith("__label__") and text:
                out.append((_detokenize_ptb(text), grade[label[-1]]))
    return out


_PTB = [(re.compile(r" ([.,!?;:%)])"), r"\1"), (re.compile(r"([($]) "), r"\1"),
        (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
        (re.compile(r"-LRB- ?"), "("), (re.compile(r" ?-RRB-"), ")"),
        (re.compile(r"`` ?| ?''"), '"')]


def _detokenize_ptb(text: str) -> str:
    """Undo the Penn Treebank spacing of SST ("it 's" -> "it's") so it reads like user text."""
    for pattern, repl in _PTB:
        text = pattern.sub(repl, text)
    return text


def load_dev_sets(root: Path) -> dict[str, list[Example]]:
    """The development sets named in the benchmarks, by name."""
    sets = {
        "tweeteval-val": load_tweeteval(root, "val"),
        "sst3-dev": load_sst3(root, "dev"),
        "goemotions-dev": load_goemotions(root, "dev"),
    }
    for name in SEMEVAL_HELD_OUT:
        sets["-".join(name.split("-")[:2])] = load_semeval(root, (name,))
    return sets


GOEMOTIONS_SAMPLE = 10_000  # more Reddit text lowered tweet dev recall (see shared NOTES.md)


def training_data_card(goemotions_sample: int | None = GOEMOTIONS_SAMPLE) -> list[str]:
    """The training data of :func:`shipped_training_mix`, as the model card lists it."""
    sample = "all" if goemotions_sample is None else f"a random {goemotions_sample:,}"
    return [
        "SemEval 2013-2016 Task 4A English tweets (train, dev, devtest and test files), "
        "deduplicated by id and text, with every TweetEval validation tweet removed "
        "(URL- and handle-insensitive match). CC BY 3.0 and Twitter's terms.",
        f"GoEmotions sentiment groups: {sample} of the train split's single-label "
        "positive/negative/neutral Reddit comments. Apache-2.0.",
        "Not used: SST, the SemEval-2014 ABSA and Dong 2014 sets (no licence stated, so "
        "they may not go into a shipped model); SemEval SMS-2013 and LiveJournal-2014 "
        "(held out as out-of-domain dev sets).",
    ]


def shipped_training_mix(root: Path, goemotions_sample: int | None = GOEMOTIONS_SAMPLE,
                         seed: int = 13) -> list[Example]:
    """The training set of the shipped models (see :func:`training_data_card`)."""
    val = load_tweeteval(root, "val")
    tweets = load_semeval(root, exclude={overlap_key(t) for t, _ in val})
    reddit = load_goemotions(root, "train")
    random.Random(seed).shuffle(reddit)
    return tweets + reddit[:goemotions_sample]


def _tree_phrases(line: str) -> list[tuple[str, str]]:
    """Every labelled subtree of one PTB-style SST tree as ``(grade, phrase)``."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, list[str]]] = []
    for tok in re.findall(r"\(|\)|[^\s()]+", line):
        if tok == "(":
            stack.append(("", []))
        elif tok == ")":
            grade, words = stack.pop()
            out.append((grade, " ".join(words)))
            if stack:
                stack[-1][1].extend(words)
        elif stack and not stack[-1][0]:
            stack[-1] = (tok, stack[-1][1])
        elif stack:
            stack[-1][1].append(tok)
    return out


def load_sst3_phrases(root: Path, split: str = "train", min_words: int = 2) -> list[Example]:
    """Labelled SST phrases of at least ``min_words`` words (the sentences themselves
    excluded), mapped to three classes. They teach negation and contrast ("not bad")."""
    grade = {"0": "negative", "1": "negative", "2": "neutral", "3": "positive", "4": "positive"}
    seen: set[str] = set()
    out = []
    with open(root / "sst5" / "raw_data" / f"{split}.txt", encoding="utf-8") as fh:
        for line in fh:
            phrases = _tree_phrases(line.strip())
            for g, phrase in phrases[:-1]:  # the last subtree is the whole sentence
                if len(phrase.split()) >= min_words and phrase not in seen:
                    seen.add(phrase)
                    out.append((_detokenize_ptb(phrase), grade[g]))
    return out


WRITTEN_FEEDBACK = Path(__file__).resolve().parents[3] / "training-data" / "written-feedback.tsv"


def load_written_feedback(path: Path = WRITTEN_FEEDBACK) -> list[Example]:
    """Customer-feedback sentences written by the Frankly team (ours to ship), covering
    review phrasing the tweet corpora lack ("waste of money", "would buy again")."""
    with open(path, encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh, delimiter="\t")]
