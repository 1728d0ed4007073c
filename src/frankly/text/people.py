"""Reading people neutrally: a person's first name or gender is not sentiment.

A model that learned from tweets also learned who tends to be praised or blamed in them,
so "Darnell was rude" and "Jasmine was rude" can score differently (``frankly audit``
measures this on the Equity Evaluation Corpus). Frankly's models therefore read people
neutrally, at the normalisation step that also turns handles into ``@user``:

- **first names** (a capitalised word in :func:`first_names`: the US Census 1990 lists and
  the Social Security Administration's baby names given to at least 1,000 babies, less
  sentiment and common words, see ``scripts/build_names.py``) are read as one
  placeholder name, so every name gets the same score;
- **gendered words** ("she", "my sister", "this woman") are read as neutral ones ("they",
  "my sibling", "this person").

Both shipped models do both (the accurate model from 1.5.0: counterfactual training alone
left the gaps that ``frankly audit`` found significant, from names it never saw).

A model states what it does in its config (``"people"``: see :class:`People`); a model
without that key reads text as written. Offsets always point into the user's text: a
placeholder maps to the name it stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from frankly.errors import ModelError

# Gendered words and their counterparts (female, male). The counterfactual training data
# (frankly.training.counterfactual) swaps them; the fast model reads both as NEUTRAL's word.
GENDER_PAIRS: tuple[tuple[str, str], ...] = (
    ("she", "he"), ("herself", "himself"), ("woman", "man"), ("women", "men"),
    ("girl", "boy"), ("girls", "boys"), ("mother", "father"), ("mothers", "fathers"),
    ("mom", "dad"), ("moms", "dads"), ("mum", "dad"), ("mommy", "daddy"),
    ("daughter", "son"), ("daughters", "sons"), ("sister", "brother"),
    ("sisters", "brothers"), ("wife", "husband"), ("wives", "husbands"),
    ("girlfriend", "boyfriend"), ("girlfriends", "boyfriends"), ("aunt", "uncle"),
    ("aunts", "uncles"), ("niece", "nephew"), ("nieces", "nephews"),
    ("grandmother", "grandfather"), ("grandma", "grandpa"), ("granddaughter", "grandson"),
    ("queen", "king"), ("madam", "sir"), ("mrs", "mr"), ("ms", "mr"), ("lady", "gentleman"),
    ("ladies", "gentlemen"), ("gal", "guy"), ("sis", "bro"), ("bride", "groom"),
    ("fiancee", "fiance"), ("actress", "actor"), ("waitress", "waiter"),
    ("princess", "prince"), ("female", "male"), ("females", "males"), ("hers", "his"),
    ("stepmother", "stepfather"), ("stepdaughter", "stepson"), ("spokeswoman", "spokesman"),
    ("chairwoman", "chairman"), ("saleswoman", "salesman"), ("businesswoman", "businessman"),
    ("heroine", "hero"),
)

# The neutral word each gendered word is read as (lower case).
NEUTRAL: dict[str, str] = {}
for _words, _neutral in (
        (("she", "he"), "they"), (("her", "him"), "them"), (("his", "hers"), "their"),
        (("herself", "himself"), "themself"), (("woman", "man", "lady", "gentleman", "gal",
                                                "guy", "madam", "sir", "female", "male"),
                                               "person"),
        (("women", "men", "ladies", "gentlemen", "females", "males"), "people"),
        (("girl", "boy"), "kid"), (("girls", "boys"), "kids"),
        (("mother", "father", "mom", "dad", "mum", "mommy", "daddy"), "parent"),
        (("mothers", "fathers", "moms", "dads"), "parents"),
        (("daughter", "son"), "child"), (("daughters", "sons"), "children"),
        (("sister", "brother", "sis", "bro"), "sibling"), (("sisters", "brothers"), "siblings"),
        (("wife", "husband", "bride", "groom"), "spouse"), (("wives", "husbands"), "spouses"),
        (("girlfriend", "boyfriend", "fiancee", "fiance"), "partner"),
        (("girlfriends", "boyfriends"), "partners"),
        (("aunt", "uncle", "niece", "nephew"), "relative"),
        (("aunts", "uncles", "nieces", "nephews"), "relatives"),
        (("grandmother", "grandfather", "grandma", "grandpa"), "grandparent"),
        (("granddaughter", "grandson"), "grandchild"), (("queen", "king"), "monarch"),
        (("mrs", "mr", "ms"), "mx"), (("actress", "actor"), "actor"),
        (("waitress", "waiter"), "server"), (("princess", "prince"), "royal"),
        (("stepmother", "stepfather"), "stepparent"),
        (("stepdaughter", "stepson"), "stepchild"),
        (("spokeswoman", "spokesman"), "spokesperson"),
        (("chairwoman", "chairman"), "chair"),
        (("saleswoman", "salesman"), "salesperson"),
        (("businesswoman", "businessman"), "businessperson"),
        (("heroine", "hero"), "hero")):
    for _w in _words:
        NEUTRAL[_w] = _neutral
assert all(f in NEUTRAL and m in NEUTRAL for f, m in GENDER_PAIRS)

# A capitalised word standing on its own (not inside a handle, hashtag or longer word);
# "Jasmine's" matches "Jasmine", and "DeShawn" matches (one inner capital: see is_name).
_CAPITALISED = re.compile(r"(?<![\w@#&'\u2019])[A-Z][a-z]+(?:[A-Z][a-z]+)?(?!\w)")


def _trie_pattern(words: list[str]) -> str:
    """One regex alternative for ``words``, factored by shared prefixes ("s(?:he|ister)"):
    Python's regex engine tries alternatives in turn, so a flat list of 100 words costs
    several times more per character of text."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


_AROUND = (r"(?<![\w@#'\u2019])", r"(?![\w'\u2019])")
# Gendered words, any case ("Mrs." keeps its dot), and in lower-cased text (faster).
_GENDERED = re.compile(_AROUND[0] + _trie_pattern(sorted(NEUTRAL)) + _AROUND[1], re.IGNORECASE)
_GENDERED_LOWER = re.compile(_AROUND[0] + _trie_pattern(sorted(NEUTRAL)) + _AROUND[1])


@dataclass(frozen=True)
class People:
    """How a model reads people: ``names`` is the placeholder every first name is read as
    (None: names as written); ``neutral_gender`` reads gendered words as neutral ones."""

    names: str | None = None
    neutral_gender: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "People | None":
        """The model config's ``"people"`` entry (None when absent: text as written)."""
        given = config.get("people")
        if given is None:
            return None
        if not isinstance(given, dict) or set(given) - {"names", "neutral_gender"}:
            raise ModelError(f"{config.get('name')}: config.json 'people' must be an object "
                             f"with 'names' and/or 'neutral_gender', got {given!r}")
        names = given.get("names")
        if names is not None and not (isinstance(names, str) and names.isalpha()):
            raise ModelError(f"{config.get('name')}: 'people.names' must be one word, "
                             f"got {names!r}")
        return cls(names=names, neutral_gender=bool(given.get("neutral_gender", False)))

    def to_config(self) -> dict[str, Any]:
        return {"names": self.names, "neutral_gender": self.neutral_gender}


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """The capitalised first names read as the placeholder (shipped resource)."""
    path = resources.files("frankly") / "resources" / "people" / "first_names.txt"
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip() and not line.startswith("#"))


def name_pattern() -> re.Pattern[str]:
    """Matches capitalised words (see :func:`is_name` for which of them are names)."""
    return _CAPITALISED


def is_name(word: str, names: frozenset[str] | None = None) -> bool:
    """Whether a word that :func:`name_pattern` matched is a first name of ``names`` (by
    default :func:`first_names`). A name with an inner capital ("DeShawn", "LaToya",
    "McKenzie") is looked up as the list writes it ("Deshawn"); "YouTube" is no name.

    >>> is_name("DeShawn"), is_name("Jasmine"), is_name("YouTube"), is_name("Will")
    (True, True, False, False)
    """
    names = first_names() if names is None else names
    return (word if word[1:].islower() else word.capitalize()) in names


def gendered_pattern(lowered: bool = False) -> re.Pattern[str]:
    """Matches gendered words (any case, or lower case only when the text is ``lowered``,
    which is faster); :func:`neutral_word` gives each one's word."""
    return _GENDERED_LOWER if lowered else _GENDERED


def neutral_word(word: str) -> str:
    """The neutral word for gendered ``word``, cased like it ("She" -> "They")."""
    neutral = NEUTRAL[word.lower()]
    if word.isupper() and len(word) > 1:
        return neutral.upper()
    if word[:1].isupper():
        return neutral[:1].upper() + neutral[1:]
    return neutral


def mask_names(text: str, placeholder: str) -> str:
    """``text`` with every first name replaced by ``placeholder``.

    >>> mask_names("Jasmine and DeShawn loved it, said Alex", "Sam")
    'Sam and Sam loved it, said Sam'
    """
    names = first_names()
    return _CAPITALISED.sub(
        lambda m: placeholder if is_name(m.group(0), names) else m.group(0), text)


def neutral_gender(text: str, lowered: bool = False) -> str:
    """``text`` with every gendered word read as its neutral word (``lowered``: the text
    is known to be lower case).

    >>> neutral_gender("My sister said she loved it")
    'My sibling said they loved it'
    """
    if lowered:
        return _GENDERED_LOWER.sub(lambda m: NEUTRAL[m.group(0)], text)
    return _GENDERED.sub(lambda m: neutral_word(m.group(0)), text)
