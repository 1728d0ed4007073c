"""The fast model's prior word valence, built from lexicon files (frankly.training.lexicon)."""

from __future__ import annotations

import pytest

from frankly.errors import DataError
from frankly.training.lexicon import prior_lexicon

VADER = "\n".join([
    "superb\t3.1\t0.5\t[3, 3]",
    "meh\t-0.2\t0.4\t[0, -1]",      # rounds to grade 0: left out
    ":)\t2.0\t0.3\t[2, 2]",         # not a word the hashing reads: left out
    "no fun\t-1.5\t0.5\t[-1, -2]",  # a phrase: left out
    "mia\t-1.2\t0.6\t[-1, -2]",     # a first name too: left out
    "Awful\t-2.3\t0.6\t[-2, -3]",   # lower-cased
]) + "\n"
PATTERN = """<?xml version="1.0"?>
<sentiment>
<word form="dreary" polarity="-0.5" />
<word form="dreary" polarity="-0.3" />
<word form="superb" polarity="-1.0" />
<word form="grey" polarity="0.0" />
</sentiment>
"""


@pytest.fixture
def data(tmp_path):
    (tmp_path / "vader-lexicon").mkdir()
    (tmp_path / "vader-lexicon" / "vader_lexicon.txt").write_text(VADER, encoding="utf-8")
    (tmp_path / "vader-lexicon" / "LICENSE.txt").write_text("The MIT License (MIT)\n"
                                                            "Copyright (c) someone\n")
    (tmp_path / "lexicon-textblob-pattern").mkdir()
    (tmp_path / "lexicon-textblob-pattern" / "en-sentiment.xml").write_text(PATTERN)
    (tmp_path / "names.txt").write_text("# census\nMia\nAaron\n")
    return tmp_path


def test_grades_come_from_vader_then_pattern_less_names(data):
    lexicon = prior_lexicon(data, step=0.5, names=data / "names.txt")
    # VADER's valence / 0.5; a word VADER lacks gets Pattern's mean polarity x 4 / 0.5;
    # VADER wins where both have the word.
    assert lexicon.grades == {"superb": 6, "awful": -5, "dreary": -3}
    assert "MIT License" in lexicon.source and "census" in lexicon.source


def test_missing_files_are_named(data):
    with pytest.raises(DataError, match="first names"):
        prior_lexicon(data, names=data / "nope.txt")
    (data / "vader-lexicon" / "vader_lexicon.txt").unlink()
    with pytest.raises(DataError, match="VADER"):
        prior_lexicon(data, names=data / "names.txt")
