"""Counterfactual data for teaching a model that a person's name or gender is not sentiment.

Used by ``scripts/debias_accurate.py`` (needs torch) and by the fast model's build. Everything
here is written by the Frankly team: the first names, the gender word pairs, the sentence
frames and their filler words. None of it comes from the Equity Evaluation Corpus, which
only measures the result (``frankly audit``); no name here is one of its names
(``tests/test_counterfactual.py`` checks that against a copy of its name list written in
the test, and ``scripts/debias_accurate.py`` against the corpus file when it is present).

Two kinds of variant groups:

- **gender swaps** of real training texts: "she"/"he", "my sister"/"my brother", ...
  (:func:`swap_gender`), the text otherwise unchanged;
- **name swaps**: a sentence with a person's first name, the same sentence with other
  first names of other genders and origins (:func:`name_variants`). The sentences are our
  frames (:data:`FRAMES`) and real training texts whose subject pronoun is replaced by a
  name.

The names and frames are split in two (:func:`split`): the training half teaches, the dev
half (names and frames never trained on) chooses the checkpoint (:func:`dev_rows`).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from typing import Sequence

from frankly.text.people import GENDER_PAIRS

# First names by the gender and the origin they are commonly read as. "other" gathers
# names common in Hispanic, South and East Asian, Arab, African and European families.
NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("female", "African-American"): (
        "Aaliyah", "Imani", "Keisha", "Tamika", "Shanice", "Deja", "Kiara", "Lashonda",
        "Nia", "Aisha", "Monique", "Ayanna", "Jamila", "Tierra", "Dominique", "Raven",
        "Destiny", "Zaria", "Tameka", "Nakia", "Latrice", "Shamika", "Kenisha", "Janelle",
        "Tyra", "Essence", "Shonda", "Yolanda", "Lashawn", "Kendra",
    ),
    ("male", "African-American"): (
        "DeShawn", "Tyrone", "Jamal", "Darius", "Marquis", "Terrell", "Kareem", "Rasheed",
        "DeAndre", "Jalen", "Tremaine", "Lamont", "Cedric", "Reginald", "Demetrius",
        "Tavon", "Jermaine", "Kwame", "Rashad", "Dwayne", "Marquise", "Deontae",
        "Jabari", "Keshawn", "Trevon", "Devonte", "Antwan",
        "Tyreek", "Javon", "Kendrick",
    ),
    ("female", "European-American"): (
        "Emily", "Sarah", "Allison", "Claire", "Megan", "Laurie", "Carrie", "Jill",
        "Kathryn", "Meredith", "Anne", "Molly", "Abigail", "Emma", "Hannah", "Lauren",
        "Caroline", "Rebecca", "Julie", "Susan", "Brooke", "Lindsay", "Holly", "Wendy",
        "Heidi", "Paige", "Gretchen", "Colleen", "Shannon", "Jennifer",
    ),
    ("male", "European-American"): (
        "Greg", "Brendan", "Geoffrey", "Brett", "Todd", "Matthew", "Neil", "Connor",
        "Tyler", "Luke", "Scott", "Brad", "Kyle", "Peter", "Daniel", "Patrick", "Colin",
        "Dustin", "Wyatt", "Hunter", "Cody", "Garrett", "Logan", "Chad", "Travis",
        "Kevin", "Derek", "Shane", "Dylan", "Bradley",
    ),
    ("female", "other"): (
        "Maria", "Sofia", "Camila", "Lucia", "Guadalupe", "Priya", "Ananya", "Mei",
        "Yuki", "Fatima", "Leila", "Amara", "Olga", "Ingrid", "Chiara", "Ximena",
        "Sakura", "Ngozi", "Hana", "Zainab",
    ),
    ("male", "other"): (
        "Jose", "Carlos", "Miguel", "Alejandro", "Javier", "Arjun", "Rahul", "Wei",
        "Hiroshi", "Kenji", "Omar", "Ahmed", "Youssef", "Chinedu", "Ivan", "Lars",
        "Giovanni", "Mateo", "Tariq", "Minh",
    ),
}

# Gendered words and their counterparts (female, male): frankly.text.people.GENDER_PAIRS.
_SWAP: dict[str, str] = {}
for _f, _m in GENDER_PAIRS:
    _SWAP.setdefault(_f, _m)
    _SWAP.setdefault(_m, _f)
_SWAP.update({"his": "her", "him": "her"})  # "her" itself depends on what follows it
_WORD = re.compile(r"[A-Za-z]+")
# "her" is "his" before a noun phrase and "him" elsewhere: these words end a phrase.
_NOT_NOUN = frozenset("""a an and or but to the of in on at for with from by as is was are were
be been so that this than then too very up out off over into about after before because if
when while just again now here there who which what how why not no""".split())


def _cased(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def swap_gender(text: str) -> str | None:
    """``text`` with every gendered word swapped for its counterpart, or None if it has
    none ("My sister loved it" -> "My brother loved it")."""
    words = list(_WORD.finditer(text))
    out, last, changed = [], 0, False
    for i, m in enumerate(words):
        w = m.group(0)
        low = w.lower()
        if low == "her":
            nxt = words[i + 1].group(0).lower() if i + 1 < len(words) else ""
            gap = text[m.end():words[i + 1].start()] if i + 1 < len(words) else "."
            new = "his" if nxt and nxt not in _NOT_NOUN and gap.strip() == "" else "him"
        else:
            new = _SWAP.get(low)
        if new is None:
            continue
        out.append(text[last:m.start()])
        out.append(_cased(new, w))
        last = m.end()
        changed = True
    if not changed:
        return None
    out.append(text[last:])
    return "".join(out)


def _half(item: str, salt: str) -> bool:
    """A fixed, content-based coin: True puts ``item`` in the dev half."""
    return hashlib.sha256((salt + item).encode()).digest()[0] % 4 == 0


@dataclass(frozen=True)
class Name:
    name: str
    gender: str
    origin: str


def names(dev: bool = False) -> list[Name]:
    """The training names (``dev=False``, about 3 in 4) or the held-out dev names."""
    return [Name(n, g, o) for (g, o), ns in NAMES.items() for n in ns
            if _half(n, "name") == dev]


# Our sentence frames with a person ({p}) and a filler word ({w}); the fillers are the
# words of FILLERS of the frame's kind.
FRAMES: tuple[tuple[str, str], ...] = (
    ("{p} was {w} on the phone today.", "adj"),
    ("{p} at the front desk was {w}.", "adj"),
    ("Our waiter {p} was {w} all evening.", "adj"),
    ("I think {p} was {w} with us.", "adj"),
    ("{p} from support sounded {w}.", "adj"),
    ("The delivery driver, {p}, was {w}.", "adj"),
    ("{p} seemed {w} about the refund.", "adj"),
    ("Honestly {p} was {w} when we arrived.", "adj"),
    ("{p} said the new update is {w}.", "adj"),
    ("{p} told me the hotel was {w}.", "adj"),
    ("According to {p}, the service was {w}.", "adj"),
    ("{p} thinks the price is {w}.", "adj"),
    ("{p} wrote that the food was {w}.", "adj"),
    ("{p} called the whole trip {w}.", "adj"),
    ("My friend {p} found the app {w}.", "adj"),
    ("{p} and I agreed the room was {w}.", "adj"),
    ("We asked {p} and the answer was {w}.", "adj"),
    ("{p} looked {w} after the meeting.", "adj"),
    ("Talking to {p} was {w}.", "adj"),
    ("The call with {p} was {w}.", "adj"),
    ("{p} had a {w} time at the store.", "adj"),
    ("{p} had a {w} week at work.", "adj"),
    ("Yesterday {p} got a {w} surprise.", "adj"),
    ("{p} described the checkout as {w}.", "adj"),
    ("{p} is {w}.", "adj"),
    ("{p} was {w}.", "adj"),
    ("{p} sounds {w} today.", "adj"),
    ("It was {w} to hear from {p}.", "adj"),
    ("{p} {w} the new menu.", "verb"),
    ("{p} {w} the way the order was handled.", "verb"),
    ("Apparently {p} {w} the product.", "verb"),
    ("{p} {w} our service last week.", "verb"),
    ("{p} said they {w} the new design.", "verb"),
    ("I heard {p} {w} the concert.", "verb"),
    ("{p} {w} working with this team.", "verb"),
    ("{p} really {w} the delivery options.", "verb"),
    ("{p} left a {w} review.", "adj"),
    ("{p} shared a {w} story about the airline.", "adj"),
    ("{p} gave us {w} news.", "adj"),
    ("{p} sent a {w} message to the shop.", "adj"),
    ("Thanks to {p} the day was {w}.", "adj"),
    ("Because of {p} the evening was {w}.", "adj"),
    ("{p} made the visit {w}.", "adj"),
    ("{p} helped me today.", "none"),
    ("{p} called about the order.", "none"),
    ("I met {p} at the counter.", "none"),
    ("{p} is picking up the package tomorrow.", "none"),
    ("{p} works at the branch on Main Street.", "none"),
    ("{p} asked about the opening hours.", "none"),
    ("{p} will handle the return.", "none"),
    ("Please forward this to {p}.", "none"),
    ("{p} booked a table for four.", "none"),
)

FILLERS: dict[str, tuple[str, ...]] = {
    "adj": ("wonderful", "helpful", "friendly", "kind", "brilliant", "cheerful", "patient",
            "lovely", "pleasant", "amazing", "fantastic", "thrilled", "delighted", "proud",
            "calm", "fine", "busy", "quiet", "okay", "normal", "average", "late", "new",
            "rude", "unhelpful", "awful", "terrible", "horrible", "upset", "frustrated",
            "nervous", "scared", "worried", "gloomy", "exhausted", "dismissive", "sloppy",
            "disgusting", "unpleasant", "dreadful"),
    "verb": ("loved", "adored", "enjoyed", "praised", "liked", "recommended", "reviewed",
             "described", "mentioned", "discussed", "hated", "disliked", "complained about",
             "criticised", "regretted", "returned"),
    "none": ("",),
}


def frames(dev: bool = False) -> list[tuple[str, str]]:
    return [f for f in FRAMES if _half(f[0], "frame") == dev]


def fill(frame: str, person: str, word: str) -> str:
    text = frame.replace("{w}", word).replace("{p}", person)
    return text[:1].upper() + text[1:]


def by_group(pool: Sequence[Name]) -> dict[tuple[str, str], list[Name]]:
    """``pool`` by (gender, origin), for :func:`name_variants`."""
    groups: dict[tuple[str, str], list[Name]] = {}
    for n in pool:
        groups.setdefault((n.gender, n.origin), []).append(n)
    return groups


def name_variants(text_with_slot: str, rng: random.Random,
                  groups: dict[tuple[str, str], list[Name]], k: int = 2) -> list[str]:
    """``k`` copies of a text with a ``{p}`` slot, each with a name from a different
    group of ``groups`` (:func:`by_group`): across genders and origins."""
    keys = rng.sample(sorted(groups), k)
    return [text_with_slot.replace("{p}", rng.choice(groups[key]).name) for key in keys]


_SUBJECT = re.compile(r"\b(?:she|he)\b(?=\s+(?:is|was|has|had|does|did|said|says|made|got|"
                      r"loves|loved|hates|hated|will|would|can|could|just|never|always|"
                      r"really|went|told|thinks|thought|looks|looked|seems|seemed)\b)",
                      re.IGNORECASE)


def with_name_slot(text: str) -> str | None:
    """``text`` with its first subject "she"/"he" replaced by a ``{p}`` slot, or None."""
    if "{" in text or "}" in text:
        return None
    m = _SUBJECT.search(text)
    return None if m is None else text[:m.start()] + "{p}" + text[m.end():]


# Noun phrases for a person (female, male), used in frames beside names.
_PHRASES: tuple[tuple[str, str], ...] = (
    ("my aunt", "my uncle"), ("our waitress", "our waiter"), ("the lady", "the gentleman"),
    ("my grandmother", "my grandfather"), ("my niece", "my nephew"), ("my wife", "my husband"),
    ("the saleswoman", "the salesman"), ("my stepmother", "my stepfather"),
    ("the woman at the desk", "the man at the desk"),
    ("the girl at the till", "the boy at the till"),
    ("our hostess", "our host"), ("my fiancee", "my fiance"),
)


@dataclass(frozen=True)
class Group:
    """Texts that differ only in a person's name or gender words. ``source`` is the index
    of the training text they were made from (None for our frames); for a gender swap
    the first text is that training text itself."""

    texts: tuple[str, ...]
    source: int | None
    kind: str  # "gender", "name" or "frame"


def variant_groups(texts: Sequence[str], rng: random.Random,
                   frame_copies: int = 1) -> list[Group]:
    """Variant groups to train on: gender swaps and name swaps of training ``texts``, and
    our training frames filled with training names and with gendered noun phrases
    (``frame_copies`` per frame and word)."""
    pool = by_group(names(dev=False))
    groups: list[Group] = []
    for i, text in enumerate(texts):
        swapped = swap_gender(text)
        if swapped is not None and swapped != text:
            groups.append(Group((text, swapped), i, "gender"))
        slot = with_name_slot(text)
        if slot is not None:
            groups.append(Group(tuple(name_variants(slot, rng, pool)), i, "name"))
    for frame, kind in frames(dev=False):
        for word in FILLERS[kind]:
            for _ in range(frame_copies):
                slot = fill(frame, "{p}", word)
                groups.append(Group(tuple(name_variants(slot, rng, pool)), None, "frame"))
                nouns = rng.choice(_PHRASES)
                groups.append(Group((fill(frame, nouns[0], word), fill(frame, nouns[1], word)),
                                    None, "frame"))
    return groups


def training_groups(texts: Sequence[str], rng: random.Random,
                    frame_copies: int = 1) -> list[list[str]]:
    """The texts of :func:`variant_groups`."""
    return [list(g.texts) for g in variant_groups(texts, rng, frame_copies)]


@dataclass(frozen=True)
class DevRow:
    """One sentence of the dev set, shaped like ``frankly.audit.bias.EECRow``."""

    sentence: str
    template: str
    person: str
    gender: str
    race: str  # "" for noun phrases; "other" names are left out of the race axis
    category: str
    word: str


def dev_rows() -> list[DevRow]:
    """Our dev frames filled with our dev names (African-American and European-American
    ones, so both axes can be measured) and dev noun phrases: a bias set with nothing in
    common with the EEC but its design."""
    rows = []
    dev_names = [n for n in names(dev=True) if n.origin != "other"]
    for frame, kind in frames(dev=True):
        for word in FILLERS[kind]:
            for n in dev_names:
                rows.append(DevRow(fill(frame, n.name, word), frame, n.name, n.gender,
                                   n.origin, kind, word or "(none)"))
            for female, male in _PHRASES:
                for phrase, gender in ((female, "female"), (male, "male")):
                    rows.append(DevRow(fill(frame, phrase, word), frame, phrase, gender, "",
                                       kind, word or "(none)"))
    return rows


def dev_sample() -> list[DevRow]:
    """A fixed quarter of :func:`dev_rows` (by frame and word): quick enough to measure
    every checkpoint of a training run."""
    return [r for r in dev_rows() if _half(r.template + r.word, "dev-sample")]


def rows_as_eec(rows: Sequence[DevRow]):  # type: ignore[no-untyped-def]
    """The dev rows as ``EECRow`` s, so ``frankly.audit.bias`` measures them."""
    from frankly.audit.bias import EUROPEAN, EECRow

    return [EECRow(r.sentence, r.template, r.person, r.gender,
                   EUROPEAN if r.race == "European-American" else r.race, r.category, r.word)
            for r in rows]
